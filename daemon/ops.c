extern int sdx_placeholder_ops; int sdx_placeholder_ops;
