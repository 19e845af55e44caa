/* Applying a checkpoint to a VM that is off: new differencing images on the checkpoint's frozen
 * ones, the vmconfig switched to them, the checkpoint's saved state made the VM's, and the
 * state the VM had discarded (said, never asked, as Hyper-V's Apply does). */
#include "hypervisor/checkpoint_int.h"

#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct restore {
	const struct ckpt_image *frozen;
	char next[PATH_MAX], old[PATH_MAX];
	char format[16];
	bool discard; /* old is ours and nothing else needs it */
};

static int make_images(const struct ckpt_vm *vm, const struct ckpt_tree *t,
		       const struct vmconfig *cfg, const struct ckpt *c, struct restore *rs,
		       unsigned *nrs, char *err, size_t errlen)
{
	unsigned n = vmconfig_count(cfg, "disk");
	int r = 0;

	*nrs = 0;
	for (unsigned i = 0; i < n; i++) {
		const char *name = vmconfig_section_name(cfg, "disk", i);
		const char *file = vmconfig_get(cfg, "disk", name, "file");
		const struct ckpt_image *im = ckpt_image_of(c->images, c->nimages, name);
		struct restore *x = &rs[*nrs];
		char frozen[PATH_MAX], fmt[16], tag[CKPT_ID_LEN + 1];

		if (!file || !ckpt_disk_writable(cfg, name))
			continue;
		if (!im) {
			ckpt_say(vm,
				 "  disk '%s' did not exist when the checkpoint was made: kept as "
				 "it is",
				 name);
			continue;
		}
		if (ckpt_resolve(vm, im->file, frozen, sizeof(frozen)) < 0 ||
		    ckpt_resolve(vm, file, x->old, sizeof(x->old)) < 0) {
			snprintf(err, errlen, "%s: a disk's path is too long", vm->vmconfig);
			return -ENAMETOOLONG;
		}
		if ((r = ckpt_image_format(frozen, fmt, err, errlen)) < 0)
			return r;
		do {
			ckpt_random_id(tag);
			r = ckpt_next_name(vm, frozen, fmt, tag, x->next, sizeof(x->next),
					   x->format);
		} while (r == 0 && access(x->next, F_OK) == 0);
		if (r < 0) {
			snprintf(err, errlen, "%s: a disk's path is too long", vm->dir);
			return r;
		}
		if ((r = ckpt_make_child(x->next, x->format, frozen, fmt, err, errlen)) < 0)
			return r;
		x->frozen = im;
		x->discard = ckpt_owned_current(vm, t, x->old) && ckpt_in_folder(vm, x->old) &&
			     !ckpt_frozen_anywhere(vm, t, x->old);
		(*nrs)++;
	}
	for (unsigned i = 0; i < c->nimages; i++)
		if (!vmconfig_get(cfg, "disk", c->images[i].disk, "file"))
			ckpt_say(vm,
				 "  the checkpoint's disk '%s' is no longer in the VM's settings: "
				 "not restored",
				 c->images[i].disk);
	return 0;
}

/* Now's images after the apply: the new ones, and those of disks it left alone. */
static int new_current(struct ckpt_tree *t, const struct ckpt_vm *vm, const struct restore *rs,
		       unsigned nrs)
{
	struct ckpt_image *cur = calloc(t->ncurrent + nrs + 1, sizeof(*cur));
	char(*rec)[PATH_MAX] = calloc(nrs + 1, PATH_MAX);
	unsigned nc = 0;
	int r = -ENOMEM;

	if (!cur || !rec)
		goto out;
	for (unsigned i = 0; i < t->ncurrent; i++) {
		bool replaced = false;
		for (unsigned j = 0; j < nrs; j++)
			replaced = replaced || strcmp(rs[j].frozen->disk, t->current[i].disk) == 0;
		if (!replaced)
			cur[nc++] = t->current[i];
	}
	for (unsigned j = 0; j < nrs; j++) {
		ckpt_record_name(vm, rs[j].next, rec[j], PATH_MAX);
		cur[nc].disk = rs[j].frozen->disk;
		cur[nc].file = rec[j];
		cur[nc++].owned = true;
	}
	r = ckpt_tree_set_current(t, cur, nc);
out:
	free(cur);
	free(rec);
	return r;
}

int ckpt_apply(const struct ckpt_vm *vm, const char *ref, char *err, size_t errlen)
{
	struct vmconfig *cfg = NULL, *orig = NULL;
	struct restore *rs = NULL;
	struct ckpt_tree t;
	struct ckpt *c;
	char saved[PATH_MAX], pending[PATH_MAX], state[PATH_MAX], id[CKPT_ID_LEN + 1];
	unsigned nrs = 0;
	bool with_state = false;
	int r;

	if ((r = ckpt_load_tree(vm, &t, err, errlen)) < 0)
		return r;
	if ((r = ckpt_tree_find(&t, ref, &c, err, errlen)) < 0 ||
	    (r = ckpt_load_config(vm, &cfg, err, errlen)) < 0 ||
	    (r = ckpt_load_config(vm, &orig, err, errlen)) < 0)
		goto out;
	snprintf(id, sizeof(id), "%s", c->id);
	if (ckpt_saved_path(vm, saved, sizeof(saved)) < 0 ||
	    snprintf(pending, sizeof(pending), "%s.apply", saved) >= (int)sizeof(pending) ||
	    ckpt_state_path(vm, id, state, sizeof(state)) < 0) {
		snprintf(err, errlen, "%s: the VM's folder path is too long", vm->dir);
		r = -ENAMETOOLONG;
		goto out;
	}
	rs = calloc(vmconfig_count(cfg, "disk") + 1, sizeof(*rs));
	if (!rs) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	ckpt_say(vm, "Applying checkpoint '%s' (%s) to VM '%s'", c->label, id, vm->name);
	if ((r = make_images(vm, &t, cfg, c, rs, &nrs, err, errlen)) < 0)
		goto undo;
	/* The checkpoint's state waits beside saved.vmstate until the disks have switched: a
	 * crash in between leaves a VM that boots on the checkpoint's disks, never one that
	 * resumes a state on disks that are not its own. */
	if (c->has_state) {
		if ((r = ckpt_copy_file(state, pending, err, errlen)) < 0)
			goto undo;
		with_state = true;
	}
	if (access(saved, F_OK) == 0) {
		if (unlink(saved) < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: cannot remove: %s", saved, strerror(errno));
			goto undo;
		}
		ckpt_say(vm, "  discarded the VM's saved state");
	}
	for (unsigned i = 0; i < nrs; i++)
		if ((r = ckpt_set_disk(cfg, vm, rs[i].frozen->disk, rs[i].next, rs[i].format, err,
				       errlen)) < 0)
			goto undo;
	if ((r = ckpt_save_config(cfg, err, errlen)) < 0)
		goto undo;
	if (with_state && rename(pending, saved) < 0) {
		ckpt_say(vm,
			 "  could not make the checkpoint's saved state the VM's (%s): it "
			 "boots instead",
			 strerror(errno));
		unlink(pending);
		with_state = false;
	}
	snprintf(t.now, sizeof(t.now), "%s", id);
	if ((r = new_current(&t, vm, rs, nrs)) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((r = ckpt_save_tree(vm, &t, err, errlen)) < 0) {
		/* Back to the disks the VM had (its saved state, if it had one, is gone). */
		char err2[256];
		if (ckpt_save_config(orig, err2, sizeof(err2)) == 0) {
			for (unsigned i = 0; i < nrs; i++)
				unlink(rs[i].next);
			if (with_state)
				unlink(saved);
		}
		goto out;
	}
	for (unsigned i = 0; i < nrs; i++) {
		if (rs[i].discard && unlink(rs[i].old) == 0)
			ckpt_say(vm, "  discarded %s (disk '%s' as it was before the apply)",
				 rs[i].old, rs[i].frozen->disk);
		else if (!rs[i].discard)
			ckpt_say(vm, "  disk '%s' no longer uses %s (kept)", rs[i].frozen->disk,
				 rs[i].old);
	}
	if (with_state)
		ckpt_say(vm, "  the VM resumes from the checkpoint's saved state at osio start");
	r = ckpt_collapse(vm, &t, cfg, false, NULL, err, errlen);
	goto out;
undo:
	for (unsigned i = 0; i < nrs; i++)
		unlink(rs[i].next);
	if (with_state)
		unlink(pending);
out:
	free(rs);
	vmconfig_free(cfg);
	vmconfig_free(orig);
	ckpt_tree_free(&t);
	return r;
}
