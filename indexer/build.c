extern int sdx_placeholder_build; int sdx_placeholder_build;
