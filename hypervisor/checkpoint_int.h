/* What the checkpoint files (checkpoint.c, checkpoint_apply.c, checkpoint_merge.c) share:
 * paths in the VM's folder, the vmconfig's disks, the tree on disk, image files. */
#ifndef OSIO_CHECKPOINT_INT_H
#define OSIO_CHECKPOINT_INT_H

#include "hypervisor/checkpoint.h"

struct vmconfig;

/* One line through vm->say. */
void ckpt_say(const struct ckpt_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A recorded file (relative to the VM's folder, or absolute) as an absolute path, and back
 * (relative when the file is directly in the folder). */
int ckpt_resolve(const struct ckpt_vm *vm, const char *file, char *buf, size_t size);
void ckpt_record_name(const struct ckpt_vm *vm, const char *abs, char *buf, size_t size);
/* Whether abs names a file directly in the VM's folder: the only files checkpoints ever
 * remove, whatever the tree file says. */
bool ckpt_in_folder(const struct ckpt_vm *vm, const char *abs);
/* The same file (device and inode; the names when either is missing). */
bool ckpt_same_file(const char *a, const char *b);

/* The vmconfig, loaded and checked; written back atomically. err: one line. */
int ckpt_load_config(const struct ckpt_vm *vm, struct vmconfig **out, char *err, size_t errlen);
int ckpt_save_config(const struct vmconfig *cfg, char *err, size_t errlen);
/* Whether the [disk] is written by the guest (not readonly = yes). */
bool ckpt_disk_writable(const struct vmconfig *cfg, const char *disk);
/* Points the [disk] at abs (recorded relative when in the folder); format, when the section
 * names one, becomes the new image's. */
int ckpt_set_disk(struct vmconfig *cfg, const struct ckpt_vm *vm, const char *disk, const char *abs,
		  const char *format, char *err, size_t errlen);

/* The image of a disk in a list, or NULL. */
const struct ckpt_image *ckpt_image_of(const struct ckpt_image *im, unsigned n, const char *disk);
/* Whether abs is one of Now's images that osio checkpoint made. */
bool ckpt_owned_current(const struct ckpt_vm *vm, const struct ckpt_tree *t, const char *abs);
/* Whether any checkpoint (deleted ones too) froze abs. */
bool ckpt_frozen_anywhere(const struct ckpt_vm *vm, const struct ckpt_tree *t, const char *abs);

void ckpt_random_id(char out[CKPT_ID_LEN + 1]);
/* A new differencing image's path for the disk whose image is cur (see checkpoint.c) and its
 * format. */
int ckpt_next_name(const struct ckpt_vm *vm, const char *cur, const char *cur_format,
		   const char *tag, char *buf, size_t size, char format[16]);
/* The format of the image at path ("vhdx"), opened without locks. */
int ckpt_image_format(const char *path, char format[16], char *err, size_t errlen);
/* A new differencing image at path on parent (named by its base name when both are in one
 * folder, so that the VM's folder can move). */
int ckpt_make_child(const char *path, const char *format, const char *parent,
		    const char *parent_format, char *err, size_t errlen);
/* Copies a file crash-safely (to.tmp, fsync, rename), holes kept. */
int ckpt_copy_file(const char *from, const char *to, char *err, size_t errlen);

/* Merges and removes what deleted checkpoints no longer need (checkpoint_merge.c). With
 * simulate, nothing on disk changes and *merges counts the merges the real run would make;
 * cfg may then be NULL. */
int ckpt_collapse(const struct ckpt_vm *vm, struct ckpt_tree *t, struct vmconfig *cfg,
		  bool simulate, unsigned *merges, char *err, size_t errlen);

#endif
