/*
 * gw_assets: the files specdex-http serves as they are (the web page,
 * its script and style, the OpenAPI description), compiled into the
 * program by embed.cmake so that the page never depends on a path on
 * disk or anything outside the machine.
 */
#ifndef SDX_GW_ASSETS_H
#define SDX_GW_ASSETS_H

#include <stddef.h>

typedef struct gw_asset {
    const char *path;          /* "/index.html" */
    const char *type;          /* its Content-Type */
    const unsigned char *data; /* its bytes */
    size_t len;                /* bytes of DATA */
} gw_asset_t;

/* The file served at PATH, or NULL. */
const gw_asset_t *gw_asset_find(const char *path);

#endif /* SDX_GW_ASSETS_H */
