/* The VM store: where osio keeps what outlives a VM (switch definitions in
 * STORE/switches/; VMs later). Its root is $OSIO_STORE_DIR if set (tests),
 * else /var/lib/osio as root, else $XDG_DATA_HOME/osio or ~/.local/share/osio. */
#ifndef OSIO_STORE_H
#define OSIO_STORE_H

#include <stdbool.h>
#include <stddef.h>

/* STORE/sub (sub NULL or "": the root itself); nothing is created.
 * -ENAMETOOLONG if it does not fit, -EINVAL if $OSIO_STORE_DIR (or
 * $XDG_DATA_HOME) is not an absolute path, -ENOENT without $HOME. */
int store_path(char *buf, size_t size, const char *sub);
/* One sentence for a store_path error (which variable to fix). */
const char *store_path_problem(int err);

/* Creates STORE/sub and the folders above it as needed (mode 0700) and
 * checks that each from the root down is a directory owned by this user
 * that nobody else can write to. Its path goes to buf. -errno with a
 * message in err naming the folder and the fix. */
int store_create_dir(const char *sub, char *buf, size_t size, char *err, size_t errlen);

/* Writes a file crash-safely: a temporary file in the same folder, written
 * and fsynced, renamed over path (with !replace: only if path does not
 * exist, else -EEXIST), then the folder fsynced. mode is the new file's
 * (e.g. 0600). -errno with a message in err naming the file. */
int store_write_atomic(const char *path, const void *data, size_t len, unsigned mode, bool replace,
		       char *err, size_t errlen);
/* fsyncs the folder dir (after a rename or unlink in it): 0 or -errno. */
int store_sync_dir(const char *dir);
/* Removes path and fsyncs its folder. -errno (-ENOENT if there was none);
 * a message in err for other errors. */
int store_remove(const char *path, char *err, size_t errlen);

#endif
