#include <git2.h>

/*
 * Some explanation is required here: git_libgit2_opts() is variadic, and Swift cannot call
 * variadic C functions. Each option mlv needs gets a fixed-argument wrapper below (the same
 * trick swift-corelibs-foundation uses for curl_easy_setopt). Remove a wrapper when nothing calls it.
 */

/* git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, level, path); path NULL restores the default. */
static inline int cgit2_set_search_path(git_config_level_t level, const char *path) {
    return git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, (int)level, path);
}

/* git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH, level, out). */
static inline int cgit2_get_search_path(git_config_level_t level, git_buf *out) {
    return git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH, (int)level, out);
}
