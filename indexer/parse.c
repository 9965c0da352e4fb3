extern int sdx_placeholder_parse; int sdx_placeholder_parse;
