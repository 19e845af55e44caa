/* Checkpoints of store VMs, as Hyper-V has them: a tree of frozen disk images (and saved states
 * of running VMs) in STORE/vms/NAME/checkpoints/checkpoints.json, and create, apply and delete.
 *
 * Each checkpoint freezes one image per hard disk: the image the disk had when the checkpoint
 * was made, which from then on only others write into (as a parent). "Now", the VM's running
 * state, hangs under one checkpoint: its disks are differencing images on that checkpoint's
 * frozen images. The image tree of each disk is the checkpoint tree. Deleting a checkpoint
 * merges what can be merged: its frozen images merge with the one image that still uses them
 * when that is the VM's current disk (block_commit); while a frozen image has more users, or
 * its only user is another checkpoint's frozen image, the deleted checkpoint stays in the file,
 * marked deleted and left out of lists, until a later delete or apply lets it merge.
 *
 * Each checkpoint also keeps the VM's settings as they were (checkpoints/ID.vmconfig, its disks
 * naming the images it froze); applying it gives the VM those settings back, all but what
 * names the VM in the store and how the host runs it (ckpt_kept_keys), as Hyper-V's Apply
 * does. Checkpoints made before osio kept them have no copy: their apply restores the disks
 * only. */
#ifndef OSIO_CHECKPOINT_H
#define OSIO_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CKPT_ID_LEN    8   /* hex digits */
#define CKPT_LABEL_MAX 100 /* bytes */
#define CKPT_MAX       256 /* checkpoints in one tree, deleted ones included */

struct ckpt_image {
	char *disk; /* the [disk] section's name; "" for an unnamed one */
	char *file; /* relative to the VM's folder, or absolute */
	bool owned; /* made by osio checkpoint: removed once nothing needs it */
};

struct ckpt {
	char id[CKPT_ID_LEN + 1];
	char parent[CKPT_ID_LEN + 1]; /* "" at the root */
	char *label;
	int64_t created;  /* seconds since the epoch */
	bool deleted;	  /* deleted, kept until its images can merge */
	bool has_state;	  /* checkpoints/ID.vmstate: the VM ran (or was saved) */
	unsigned nimages; /* the images it froze */
	struct ckpt_image *images;
};

struct ckpt_tree {
	char now[CKPT_ID_LEN + 1]; /* the checkpoint Now hangs under; "" none */
	unsigned n;
	struct ckpt *c;
	/* Now's images made by osio checkpoint (the user's own are never
	 * removed). */
	unsigned ncurrent;
	struct ckpt_image *current;
};

/* Reads a tree file; a missing file is an empty tree. A damaged file (not
 * JSON, a missing or wrong field, a parent that does not exist, a loop) is
 * -EINVAL with one line in err naming the file and what is wrong. */
int ckpt_tree_load(const char *path, struct ckpt_tree *t, char *err, size_t errlen);
/* Writes it crash-safely (store_write_atomic). */
int ckpt_tree_save(const struct ckpt_tree *t, const char *path, char *err, size_t errlen);
void ckpt_tree_free(struct ckpt_tree *t);

/* The checkpoint with this id, deleted ones too, or NULL. */
struct ckpt *ckpt_tree_get(const struct ckpt_tree *t, const char *id);
/* The checkpoint (not deleted) that ref names: its id, or its label when
 * exactly one has it. -ENOENT / -EINVAL (a label several have) with err. */
int ckpt_tree_find(const struct ckpt_tree *t, const char *ref, struct ckpt **out, char *err,
		   size_t errlen);
/* The nearest ancestor of c that is not deleted (c's parent as lists show
 * it); NULL at the root. id NULL or "": none. */
struct ckpt *ckpt_tree_shown_parent(const struct ckpt_tree *t, const char *id);
/* Appends a copy of c (the strings are copied); -ENOMEM, -ENOSPC past
 * CKPT_MAX. */
int ckpt_tree_add(struct ckpt_tree *t, const struct ckpt *c);
/* Removes the checkpoint at index i (its children must be gone). */
void ckpt_tree_remove(struct ckpt_tree *t, unsigned i);
/* Replaces t->current with a copy of images[0..n). */
int ckpt_tree_set_current(struct ckpt_tree *t, const struct ckpt_image *images, unsigned n);

/* A label as a user may give it: 1 to CKPT_LABEL_MAX bytes of UTF-8 text
 * without control characters, not blank, not looking like an id. */
int ckpt_check_label(const char *label, char *err, size_t errlen);

/* --- operations on a VM (checkpoint.c) -------------------------------------------- */

struct ckpt_vm {
	const char *name;     /* for default labels */
	const char *dir;      /* the VM's folder */
	const char *vmconfig; /* its vmconfig */
	/* What was done, one line at a time (may be NULL). */
	void (*say)(void *opaque, const char *line);
	void *opaque;
};

/* DIR/checkpoints/checkpoints.json, DIR/checkpoints/ID.vmstate, DIR/checkpoints/ID.vmconfig,
 * DIR/saved.vmstate, DIR/.running.vmconfig (the settings the VM's worker started with, which
 * osio start writes: the vmconfig may have been edited since, for the next start). */
int ckpt_tree_path(const struct ckpt_vm *vm, char *buf, size_t size);
int ckpt_state_path(const struct ckpt_vm *vm, const char *id, char *buf, size_t size);
int ckpt_config_path(const struct ckpt_vm *vm, const char *id, char *buf, size_t size);
int ckpt_saved_path(const struct ckpt_vm *vm, char *buf, size_t size);
int ckpt_running_path(const struct ckpt_vm *vm, char *buf, size_t size);
/* A settings copy's text (at most VMCONFIG_MAX_SIZE bytes; -EFBIG for more or not a regular
 * file), malloc'd and NUL-terminated; -ENOENT when there is none. */
int ckpt_read_config_text(const char *path, char **out, size_t *len);
/* The VM's tree (ckpt_tree_load/save on its path). */
int ckpt_load_tree(const struct ckpt_vm *vm, struct ckpt_tree *t, char *err, size_t errlen);
int ckpt_save_tree(const struct ckpt_vm *vm, const struct ckpt_tree *t, char *err, size_t errlen);

/* A checkpoint being made: its id and label, and for every hard disk the
 * image it has now and the differencing image it goes on with. */
struct ckpt_plan_disk {
	char disk[72];	    /* section name */
	char *cur;	    /* absolute path of the current image */
	char *next;	    /* absolute path of the new differencing image */
	char format[16];    /* the new image's */
	char cur_rec[4096]; /* the current image as the tree records it */
};
struct ckpt_plan {
	char id[CKPT_ID_LEN + 1];
	char label[CKPT_LABEL_MAX + 1];
	char state[4096];  /* DIR/checkpoints/ID.vmstate */
	char config[4096]; /* DIR/checkpoints/ID.vmconfig (written by ckpt_plan_record) */
	bool with_state;   /* a state file goes with it (running or saved VM) */
	/* A running VM's: the settings its worker started with (ckpt_running_path), kept as the
	 * checkpoint's instead of the vmconfig, which may have been edited since; "" none. */
	char running[4096];
	unsigned n;
	struct ckpt_plan_disk *d;
};

/* Plans a checkpoint (label NULL: "NAME - YYYY-MM-DD HH:MM:SS"); creates
 * nothing but the checkpoints folder. */
int ckpt_plan_create(const struct ckpt_vm *vm, const char *label, struct ckpt_plan *plan, char *err,
		     size_t errlen);
/* Once the images (and the state) exist: the vmconfig as it is now (or
 * plan->running, its disks naming the images being frozen as the vmconfig
 * does) is kept as the checkpoint's (plan->config), the vmconfig goes on with the new
 * images, the tree records the checkpoint. On failure the vmconfig and the
 * tree are as before and plan->config is gone (the new images and state are
 * the caller's to remove: ckpt_plan_undo). */
int ckpt_plan_record(const struct ckpt_vm *vm, const struct ckpt_plan *plan, char *err,
		     size_t errlen);
/* Removes the plan's new images, state file and settings copy, where they
 * exist. */
void ckpt_plan_undo(const struct ckpt_plan *plan);
void ckpt_plan_free(struct ckpt_plan *plan);

/* Off (or saved) VM: makes the differencing images (and copies
 * saved.vmstate) and records the checkpoint. Its id into id_out. */
int ckpt_create(const struct ckpt_vm *vm, const char *label, char id_out[CKPT_ID_LEN + 1],
		char *err, size_t errlen);
/* Off VM: the disks go back to the checkpoint's content and the settings
 * to the checkpoint's copy (but for ckpt_kept_keys; disks added since leave
 * the settings, their files kept); the current state is discarded (said
 * through vm->say); the checkpoint's saved state, if it has one, becomes
 * saved.vmstate. */
int ckpt_apply(const struct ckpt_vm *vm, const char *ref, char *err, size_t errlen);
/* The [vm] keys an apply keeps from the VM's current settings: its name and
 * UUID in the store, and how the host runs it. NULL-terminated. */
extern const char *const ckpt_kept_keys[];

/* What differs between checkpoint c's copy of the settings and the VM's
 * vmconfig now, as short phrases ("memory 2G, now 4G", "nic 'lan' added
 * since"), at most max into list; *n how many. The keys an apply keeps and
 * the images of the disks c froze are left out. -ENOENT: c has no copy;
 * -EINVAL with err: a vmconfig cannot be read. */
#define CKPT_DIFF_LEN 160
int ckpt_config_diff(const struct ckpt_vm *vm, const struct ckpt *c, char (*list)[CKPT_DIFF_LEN],
		     unsigned max, unsigned *n, char *err, size_t errlen);

/* Deletes a checkpoint and merges what can be merged. With running (the
 * VM's current images are in use), a delete that would have to merge into
 * or out of them is refused (-EBUSY) before anything changes. */
int ckpt_delete(const struct ckpt_vm *vm, const char *ref, bool running, char *err, size_t errlen);

#endif
