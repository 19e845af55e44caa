/* The file browser's folder listings, without curses: entries read,
 * filtered by patterns, sorted folders first; typed paths resolved; sizes
 * formatted. Used by filebrowser.c, tested by tests/console/test_widgets.c. */
#ifndef OSIO_CONSOLE_FILELIST_H
#define OSIO_CONSOLE_FILELIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct file_entry {
	char *name;    /* without a trailing '/' ("..": the parent) */
	bool dir;      /* a folder (or a link to one) */
	uint64_t size; /* bytes, files only */
};

struct file_list {
	struct file_entry *e;
	unsigned n;
};

/* True when name matches one of patterns (comma-separated fnmatch
 * patterns, case-insensitive, spaces around commas ignored); NULL or ""
 * matches everything. */
bool filelist_match(const char *name, const char *patterns);

/* Reads the folder dir (absolute) into l: ".." first (unless dir is "/"),
 * then folders, then files matching patterns (none when dirs_only), each
 * group sorted by name ignoring case; names starting with '.' only when
 * hidden. 0 or -errno (l is then empty). */
int filelist_read(struct file_list *l, const char *dir, const char *patterns, bool dirs_only,
		  bool hidden);
void filelist_free(struct file_list *l);

/* Sorts entries folders first, ".." before all, then by name ignoring case
 * (exposed for the tests). */
void filelist_sort(struct file_entry *e, unsigned n);

/* The absolute, normalised path of typed: '~' or "~/..." is $HOME, a
 * relative path is taken from base; "." and ".." parts and repeated '/'
 * are folded. 0, -ENAMETOOLONG, or -ENOENT ('~' without $HOME). */
int filelist_resolve(const char *base, const char *typed, char *out, size_t outlen);

/* Splits an absolute path into its folder and last part ("/a/b" -> "/a",
 * "b"; "/a" -> "/", "a"; "/" -> "/", ""). 0 or -ENAMETOOLONG. */
int filelist_split(const char *path, char *dir, size_t dirlen, char *name, size_t namelen);

/* A size for people: "512 B", "1.5 KB", "20 GB" (binary units). */
void filelist_size_str(uint64_t bytes, char *buf, size_t len);

#endif
