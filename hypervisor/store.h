/* The VM store: where osio keeps what outlives a VM (switch definitions in
 * STORE/switches/, VMs in STORE/vms/). Its root is $OSIO_STORE_DIR if set
 * (tests), else /var/lib/osio in system mode, else $XDG_DATA_HOME/osio or
 * ~/.local/share/osio. */
#ifndef OSIO_STORE_H
#define OSIO_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* System mode: the system's VMs in STORE_SYSTEM_DIR and /run/osio, shared
 * by root and the members of the group that owns that folder (osio:
 * share/systemd/tmpfiles.conf makes both root:osio, mode 2770). */
#define STORE_SYSTEM_DIR   "/var/lib/osio"
#define STORE_SYSTEM_GROUP "osio"

/* Whether this process works in system mode: $OSIO_SYSTEM is set and not
 * "0" (osio --system sets it), or, without $OSIO_SYSTEM, it runs as root
 * and $OSIO_STORE_DIR is not set. */
bool store_system_mode(void);
/* For osio's main, before any command: in system mode sets the umask to 007
 * (what osio and its workers create stays the group's) and, for a user
 * other than root, checks that the store's root exists and that the user
 * is in its group. -errno with one line in err saying what to do. */
int store_system_enter(char *err, size_t errlen);
/* The mode a file or folder of the store is created with: mode, and in
 * system mode with the owner's bits given to the group too (0600 -> 0660,
 * 0700 -> 0770) so that the group's other members can use it. */
unsigned store_file_mode(unsigned mode);
/* Whether this process is in group gid (root always is). */
bool store_in_group(gid_t gid);

/* STORE/sub (sub NULL or "": the root itself); nothing is created.
 * -ENAMETOOLONG if it does not fit, -EINVAL if $OSIO_STORE_DIR (or
 * $XDG_DATA_HOME) is not an absolute path, -ENOENT without $HOME. */
int store_path(char *buf, size_t size, const char *sub);
/* One sentence for a store_path error (which variable to fix). */
const char *store_path_problem(int err);

/* Creates STORE/sub and the folders above it as needed (mode 0700; 0770 in
 * system mode) and checks that each from the root down is a directory owned
 * by this user that nobody else can write to (in system mode: or one of the
 * store's group that others cannot write to, the root owned by root). Its
 * path goes to buf. -errno with a message in err naming the folder and the
 * fix. */
int store_create_dir(const char *sub, char *buf, size_t size, char *err, size_t errlen);

/* Writes a file crash-safely: a temporary file in the same folder, written
 * and fsynced, renamed over path (with !replace: only if path does not
 * exist, else -EEXIST), then the folder fsynced. mode is the new file's
 * (e.g. 0600; store_file_mode(mode) in system mode). -errno with a message in err naming the file.
 */
int store_write_atomic(const char *path, const void *data, size_t len, unsigned mode, bool replace,
		       char *err, size_t errlen);
/* fsyncs the folder dir (after a rename or unlink in it): 0 or -errno. */
int store_sync_dir(const char *dir);
/* Removes path and fsyncs its folder. -errno (-ENOENT if there was none);
 * a message in err for other errors. */
int store_remove(const char *path, char *err, size_t errlen);

#endif
