/* A VM's settings as Hyper-V's Settings window shows them, without a
 * terminal: the hardware tree read from its vmconfig, the edits applied to
 * that document (comments and layout kept), the rules of what may change
 * while the VM runs, and saving under the VM's command lock. */
#ifndef OSIO_CONSOLE_HWTREE_H
#define OSIO_CONSOLE_HWTREE_H

#include "hypervisor/vmstore.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct vmconfig;

#define HW_MAX_ITEMS  192
#define HW_LOCKED_MSG "Turn off the VM to change this"

/* What may be changed: everything (Off, Crashed), only what changes live
 * (Running, Paused: DVD media, an adapter's switch), nothing (Saved,
 * Saving, Starting). */
enum hw_mode { HW_MODE_OFF, HW_MODE_LIVE, HW_MODE_LOCKED };

enum hw_kind {
	HW_HEADER,	/* "Hardware", "Management" */
	HW_ADD,		/* "Add Hardware" */
	HW_FIRMWARE,	/* [boot]: firmware, order (or the kernel booted directly) */
	HW_MEMORY,	/* [vm] memory */
	HW_PROCESSOR,	/* [vm] cpus */
	HW_IDE,		/* IDE Controller 0 / 1 (port: which) */
	HW_VIRTIO,	/* Virtio storage */
	HW_DISK,	/* a [disk] */
	HW_DVD,		/* a [dvd] */
	HW_NIC,		/* a [nic] */
	HW_COM,		/* COM 1..4 (port 0..3), present or not */
	HW_DISPLAY,	/* [display] */
	HW_NAME,	/* [vm] name */
	HW_WORKER_USER, /* [vm] worker_user */
	HW_ACTIONS,	/* [vm] on_reboot, on_disk_error */
	HW_SERVICES,	/* [vm] rng */
	HW_AUTOSTART,	/* [vm] autostart, autostart_order, autostart_delay */
	HW_AUTOSTOP,	/* [vm] stop_action, stop_timeout */
};

struct hw_item {
	enum hw_kind kind;
	unsigned depth;	  /* 0 a header, 1 an item, 2 a drive under its controller */
	char label[40];	  /* "Hard Drive", "Network Adapter", "COM 2" */
	char value[160];  /* a short text after it: "system.vhdx", "2 GiB" */
	char section[12]; /* the vmconfig section it edits ("" none) */
	char name[72];	  /* the section's name ("" unnamed or single) */
	bool exists;	  /* the section is in the file */
	int ide;	  /* IDE position 0..3 (controller * 2 + location), -1 */
	unsigned port;	  /* HW_IDE: controller; HW_COM: 0..3 */
};

struct hwtree {
	char vm[65];
	char path[PATH_MAX];  /* the vmconfig */
	struct vmconfig *cfg; /* the document being edited */
	char *base;	      /* the file's text when loaded or last saved */
	enum hw_mode mode;
	bool dirty; /* edited since loaded or saved */
	struct hw_item items[HW_MAX_ITEMS];
	unsigned nitems;
};

/* The mode for a VM in state s. */
enum hw_mode hwtree_mode(enum vm_state s);

/* Loads the store VM vm's vmconfig and builds the tree. 0, or -errno with
 * one line in msg (-ENOENT no such VM, -EINVAL the vmconfig's error). */
int hwtree_open(struct hwtree *t, const char *vm, enum hw_mode mode, char *msg, size_t msglen);
void hwtree_close(struct hwtree *t);
/* Reads the tree again from the document (after edits; hwtree_apply and
 * the add/remove calls do it themselves). */
void hwtree_rebuild(struct hwtree *t);

/* A key's value in the item's section, or NULL when it is not set. */
const char *hwtree_get(const struct hwtree *t, const struct hw_item *it, const char *key);
/* The value, or the schema's default when it is not set ("" for none). */
const char *hwtree_value(const struct hwtree *t, const char *section, const char *name,
			 const char *key);

/* Whether key of section may change in mode (key NULL: the section added
 * or removed). When not, *why (may be NULL) gets HW_LOCKED_MSG. */
bool hwtree_may_change(enum hw_mode mode, const char *section, const char *key, char *why,
		       size_t whylen);
/* Whether the item can be edited at all in the tree's mode (any of its
 * keys), and removed. */
bool hwtree_item_editable(const struct hwtree *t, const struct hw_item *it);
bool hwtree_item_removable(const struct hwtree *t, const struct hw_item *it, char *why,
			   size_t whylen);

/* One change to a key: value NULL removes the line. */
struct hw_change {
	const char *key;
	const char *value;
};

/* Applies changes to the section (created when absent) as one edit: each
 * allowed in the mode (hwtree_may_change), each value checked with
 * vmconfig_check_value, then the whole document with vmconfig_validate.
 * On any failure nothing is changed and msg has the reason (the vmconfig's
 * message, "memory = '2X': not a size; ..."). IDE drives keep the
 * positions they had. 0, -EPERM (locked), -EINVAL, -ENOMEM. */
int hwtree_apply(struct hwtree *t, const char *section, const char *name, const struct hw_change *c,
		 unsigned n, char *msg, size_t msglen);

/* Add Hardware. A new [disk] (bus "ide" or "virtio") or [dvd] (file may be
 * "") at the first free IDE position, or a [nic] on switch sw with model
 * ("e1000", "virtio"). The new section's name into out (may be NULL).
 * Errors as hwtree_apply (no free IDE position: the vmconfig's message). */
int hwtree_add_disk(struct hwtree *t, const char *bus, const char *file, char *out, size_t outlen,
		    char *msg, size_t msglen);
int hwtree_add_dvd(struct hwtree *t, const char *file, char *out, size_t outlen, char *msg,
		   size_t msglen);
int hwtree_add_nic(struct hwtree *t, const char *sw, const char *model, char *out, size_t outlen,
		   char *msg, size_t msglen);
/* Removes a disk, DVD drive, adapter or COM port (its section). */
int hwtree_remove(struct hwtree *t, const struct hw_item *it, char *msg, size_t msglen);

/* The section names at the four IDE positions ("" unnamed) and their types
 * ("disk", "dvd"; NULL where no drive sits), as the vmconfig places them.
 * 0, -EINVAL (the document does not place them), -ENOMEM. */
int hwtree_ide_positions(const struct hwtree *t, char names[4][72], const char *types[4]);
/* The first free IDE position (0..3) with the drives as placed now, or -1. */
int hwtree_free_ide(const struct hwtree *t);
/* The name the control API calls a [nic] section ("nic0" for an unnamed
 * one, as vmconfig names it). */
void hwtree_nic_id(const struct hwtree *t, const struct hw_item *it, char *out, size_t outlen);

/* The right pane: lines describing the item (at most max, each 255 bytes
 * at most), e.g. "Memory: 2 GiB (2G)". Returns how many. */
unsigned hwtree_summary(const struct hwtree *t, const struct hw_item *it, char lines[][256],
			unsigned max);

/* Writes the document under the VM's command lock (vmstore_lock), unless
 * the file changed since it was loaded or saved (someone else edited it):
 * -ESTALE then. Also validates first. 0, or -errno with msg. */
int hwtree_save(struct hwtree *t, char *msg, size_t msglen);
/* The file was changed on purpose by a command the console ran (osio dvd
 * writes the vmconfig itself): take its text as the new base without
 * losing the edits. Re-applies key of section to value in the document. */
int hwtree_sync_key(struct hwtree *t, const char *section, const char *name, const char *key,
		    const char *value, char *msg, size_t msglen);

/* A file's whole text (NUL-terminated, malloc'd; at most VMCONFIG_MAX_SIZE),
 * or NULL with -errno in *err. */
char *hwtree_read_file(const char *path, int *err);
/* path as the vmconfig should hold it: relative to the vmconfig's folder
 * when it lies inside it, else as given. */
void hwtree_config_path(const struct hwtree *t, const char *path, char *out, size_t outlen);

#endif
