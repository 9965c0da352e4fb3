extern int sdx_placeholder_broker; int sdx_placeholder_broker;
