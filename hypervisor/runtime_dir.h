/* Where running workers keep their sockets: $OSIO_RUNTIME_DIR if set (tests
 * keep their VMs apart with it), else /run/osio in system mode (store.h),
 * $XDG_RUNTIME_DIR/osio for users, /tmp/osio-UID without it; and the
 * control socket of a VM by name. */
#ifndef OSIO_RUNTIME_DIR_H
#define OSIO_RUNTIME_DIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define RUNTIME_SYSTEM_DIR "/run/osio"

/* The directory's path (not created). -ENAMETOOLONG if it does not fit. */
int runtime_dir_path(char *buf, size_t size);
/* Creates the directory (mode 0700) if needed and checks it is a directory
 * of ours that nobody else can write to (in system mode also: root's, of a
 * group we are in, not writable by others; made root:GROUP 2770 when root
 * makes /run/osio); logs one line saying what is wrong and returns -errno
 * otherwise. */
int runtime_dir_create(char *buf, size_t size);
/* Whether a runtime folder (st: its stat) is shared by its group: in system
 * mode, with rwx for the group (as /run/osio is). What workers make in it
 * is then the group's: sockets 0660, folders 2770. */
bool runtime_dir_shared(const struct stat *st);
/* The mode of a socket made at path: 0600, or 0660 when its folder is
 * shared (runtime_dir_shared): the group's members reach the VMs' sockets
 * there. */
unsigned runtime_socket_mode(const char *path);
/* The control socket of the VM called name: DIR/NAME.sock. */
int control_socket_path(const char *name, char *buf, size_t size);
/* What a user names on the command line (osio connect NAME|SOCKET): a path
 * (it has a '/') as is, else the control socket of the VM of that name. */
int control_socket_resolve(const char *name_or_path, char *buf, size_t size);

#endif
