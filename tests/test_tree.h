/*
 * test_tree.h: removing a test's temporary directory tree, for every
 * test that makes one (an index in a temp dir: one helper, not a copy
 * in each test).  The including file defines _XOPEN_SOURCE 700 (or
 * builds with _POSIX_C_SOURCE 200809L, as sdx_flags does) for nftw().
 */
#ifndef SDX_TEST_TREE_H
#define SDX_TEST_TREE_H

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int
t_rm_entry(const char *path, const struct stat *sb, int type,
           struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove DIR and everything under it; 0, or -1 (errno set). */
static inline int
t_rm_tree(const char *dir)
{
    return nftw(dir, t_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif /* SDX_TEST_TREE_H */
