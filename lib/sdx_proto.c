extern int sdx_placeholder; int sdx_placeholder;
