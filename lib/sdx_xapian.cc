extern int sdx_placeholder_xapian; int sdx_placeholder_xapian;
