/* Copying a VM into a new folder, for osio export and osio import: its disk images with their
 * parent chains (sparsely), its checkpoint tree with every image the tree names, its saved
 * state; and the list of what was made, which a failure removes again. */
#ifndef OSIO_CLI_VMCOPY_H
#define OSIO_CLI_VMCOPY_H

#include <stdbool.h>
#include <stddef.h>

struct vmconfig;

#define VMCOPY_PATH 4096

/* Files and folders a failed import/export removes again, last made first. */
struct made {
	char dir[VMCOPY_PATH]; /* the new folder, removed last ("" none) */
	char **files;
	unsigned n, cap;
};
/* Records path (a file, or a folder inside dir): 0, or -ENOMEM after a message. */
int made_add(struct made *m, const char *path);
/* With remove, everything recorded is removed, then dir; frees the list either way. */
void made_undo(struct made *m, bool remove);

/* Every relative path in cfg but the disks' made absolute against dir (the vmconfig moves). */
int vmcopy_absolute_paths(struct vmconfig *cfg, const char *dir);

/* The disks of cfg (relative to the folder from) named by their absolute paths: an import that
 * leaves them where they are. Refused (-EINVAL after a message) when from holds a checkpoint
 * tree with checkpoints: its images must move with the VM (--copy). */
int vmcopy_disks_in_place(struct vmconfig *cfg, const char *from);

/* Copies into m->dir what the VM in the folder from has besides its vmconfig: the disks of cfg
 * with their parent chains and, when from/checkpoints/checkpoints.json exists, the checkpoints
 * folder (every file in it; checkpoints.json and the ID.vmconfig files with their paths made to
 * fit m->dir) and every image the tree and the ID.vmconfig files name, with their parents. All
 * images go directly into m->dir under their own names (one that is nobody's parent gets "-2",
 * "-3"... when its name is taken), and cfg's disks then name the copies. A parent recorded by a
 * path with a folder in it cannot be re-pointed: refused with a message. 0, or -errno after one
 * message; what was made is in m. */
int vmcopy_disks(struct vmconfig *cfg, const char *from, struct made *m);

/* from/saved.vmstate copied into m->dir: 1, 0 when there is none, -errno after a message. */
int vmcopy_saved_state(const char *from, struct made *m);

/* How many checkpoints (deleted ones left out) the tree in from has; 0 without one. */
unsigned vmcopy_count_checkpoints(const char *from);

#endif
