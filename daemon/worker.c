extern int sdx_placeholder_worker; int sdx_placeholder_worker;
