/* Deleting checkpoints: a deleted checkpoint's frozen images are merged with the VM's current
 * images (block_commit) when Now is their only user, removed when nothing uses them, and kept
 * (the checkpoint marked deleted) while other checkpoints still stand on them. */
#include "hypervisor/checkpoint_int.h"

#include "devices/block/block.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned children(const struct ckpt_tree *t, const char *id)
{
	unsigned n = 0;

	for (unsigned i = 0; i < t->n; i++)
		n += strcmp(t->c[i].parent, id) == 0;
	return n;
}

/* Whether the image at child has parent as its parent. */
static bool parent_is(const char *child, const char *parent)
{
	struct block_dev *bd;
	char err[256];
	bool yes;

	if (block_open(child, NULL, BLOCK_RDONLY | BLOCK_SHARE, &bd, err, sizeof(err)) < 0)
		return false;
	yes = block_backing(bd) && ckpt_same_file(block_path(block_backing(bd)), parent);
	block_close(bd);
	return yes;
}

/* Removes the owned files in list (absolute paths) that nothing in t uses any more. */
static void remove_unused(const struct ckpt_vm *vm, const struct ckpt_tree *t, char **list,
			  unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (!list[i] || !ckpt_in_folder(vm, list[i]) ||
		    ckpt_frozen_anywhere(vm, t, list[i]) || ckpt_owned_current(vm, t, list[i]))
			continue;
		if (unlink(list[i]) == 0)
			ckpt_say(vm, "  removed %s (no checkpoint needs it any more)", list[i]);
	}
}

/* A deleted checkpoint nobody stands on: out of the tree, then its images off the disk. */
static int drop(const struct ckpt_vm *vm, struct ckpt_tree *t, unsigned i, char *err, size_t errlen)
{
	struct ckpt *h = &t->c[i];
	char *files[64] = {0}, path[PATH_MAX];
	unsigned n = 0;
	int r;

	for (unsigned j = 0; j < h->nimages && n < 64; j++)
		if (h->images[j].owned &&
		    ckpt_resolve(vm, h->images[j].file, path, sizeof(path)) == 0)
			files[n++] = strdup(path);
	/* ckpt_delete removed them already; a crash in between may have left them. */
	if (ckpt_state_path(vm, h->id, path, sizeof(path)) == 0)
		unlink(path);
	if (ckpt_config_path(vm, h->id, path, sizeof(path)) == 0)
		unlink(path);
	ckpt_tree_remove(t, i);
	r = ckpt_save_tree(vm, t, err, errlen);
	if (r == 0)
		remove_unused(vm, t, files, n);
	for (unsigned j = 0; j < n; j++)
		free(files[j]);
	return r;
}

struct merge {
	const struct ckpt_image *frozen;
	char cur[PATH_MAX], into[PATH_MAX];
	char format[16];
	bool cur_owned;
};

static bool merged(const struct merge *m, unsigned nm, const char *disk)
{
	for (unsigned k = 0; k < nm; k++)
		if (strcmp(m[k].frozen->disk, disk) == 0)
			return true;
	return false;
}

/* A deleted checkpoint whose only user is Now: each current image that stands on its frozen
 * one merges into it; the VM goes on with the frozen images; the merged images go. The order
 * keeps a crash harmless: the copies can be redone, the vmconfig switches atomically, the
 * merged images are removed last. */
static int merge_now(const struct ckpt_vm *vm, struct ckpt_tree *t, struct vmconfig *cfg,
		     unsigned i, char *err, size_t errlen)
{
	struct ckpt *h = &t->c[i];
	struct merge *m = calloc(h->nimages + 1, sizeof(*m));
	char *unused[64] = {0};
	unsigned nm = 0, nu = 0;
	int r = 0;

	if (!m)
		return -ENOMEM;
	for (unsigned j = 0; j < h->nimages; j++) {
		const struct ckpt_image *im = &h->images[j];
		const char *file = vmconfig_get(cfg, "disk", im->disk, "file");
		char frozen[PATH_MAX], cur[PATH_MAX];

		if (ckpt_resolve(vm, im->file, frozen, sizeof(frozen)) < 0)
			continue;
		if (file && ckpt_disk_writable(cfg, im->disk) &&
		    ckpt_resolve(vm, file, cur, sizeof(cur)) == 0 && parent_is(cur, frozen)) {
			struct merge *x = &m[nm++];
			x->frozen = im;
			snprintf(x->cur, sizeof(x->cur), "%s", cur);
			snprintf(x->into, sizeof(x->into), "%s", frozen);
			x->cur_owned = ckpt_owned_current(vm, t, cur);
			if ((r = ckpt_image_format(frozen, x->format, err, errlen)) < 0)
				goto out;
		} else if (im->owned && nu < 64) {
			unused[nu++] = strdup(frozen);
		}
	}
	for (unsigned j = 0; j < nm; j++) {
		ckpt_say(vm, "  merging %s into %s", m[j].cur, m[j].into);
		if ((r = block_commit(m[j].cur, NULL, NULL, err, errlen)) < 0) {
			size_t len = strlen(err);
			snprintf(err + len, errlen - len,
				 "; nothing is lost: the next checkpoint delete or apply of the VM "
				 "tries the merge again");
			goto out;
		}
	}
	for (unsigned j = 0; j < nm; j++)
		if ((r = ckpt_set_disk(cfg, vm, m[j].frozen->disk, m[j].into, m[j].format, err,
				       errlen)) < 0)
			goto out;
	if (nm && (r = ckpt_save_config(cfg, err, errlen)) < 0)
		goto out;

	/* Now's images: the merged ones are the frozen ones now. */
	struct ckpt_image *cur = calloc(t->ncurrent + nm + 1, sizeof(*cur));
	unsigned nc = 0;
	if (!cur) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned j = 0; j < t->ncurrent; j++)
		if (!merged(m, nm, t->current[j].disk))
			cur[nc++] = t->current[j];
	for (unsigned j = 0; j < nm; j++)
		cur[nc++] = *m[j].frozen;
	snprintf(t->now, sizeof(t->now), "%s", h->parent);
	r = ckpt_tree_set_current(t, cur, nc);
	free(cur);
	if (r < 0)
		goto out;
	char gone[PATH_MAX];
	if (ckpt_config_path(vm, h->id, gone, sizeof(gone)) < 0)
		gone[0] = 0;
	ckpt_tree_remove(t, i);
	if ((r = ckpt_save_tree(vm, t, err, errlen)) < 0)
		goto out;
	if (gone[0])
		unlink(gone); /* ckpt_delete's, unless a crash kept it */
	for (unsigned j = 0; j < nm; j++)
		if (m[j].cur_owned && ckpt_in_folder(vm, m[j].cur) && unlink(m[j].cur) == 0)
			ckpt_say(vm, "  removed %s (merged)", m[j].cur);
	remove_unused(vm, t, unused, nu);
out:
	for (unsigned j = 0; j < nu; j++)
		free(unused[j]);
	free(m);
	return r;
}

int ckpt_collapse(const struct ckpt_vm *vm, struct ckpt_tree *t, struct vmconfig *cfg,
		  bool simulate, unsigned *merges, char *err, size_t errlen)
{
	bool changed = true;
	int r = 0;

	if (merges)
		*merges = 0;
	while (changed && r == 0) {
		changed = false;
		for (unsigned i = 0; i < t->n && !changed; i++) {
			struct ckpt *h = &t->c[i];
			bool now = strcmp(t->now, h->id) == 0;

			if (!h->deleted || children(t, h->id) > 0)
				continue;
			changed = true;
			if (now && merges)
				(*merges)++;
			if (simulate) {
				if (now)
					snprintf(t->now, sizeof(t->now), "%s", h->parent);
				ckpt_tree_remove(t, i);
			} else if (now) {
				r = merge_now(vm, t, cfg, i, err, errlen);
			} else {
				r = drop(vm, t, i, err, errlen);
			}
		}
	}
	return r;
}

static int tree_copy(const struct ckpt_tree *from, struct ckpt_tree *to)
{
	int r = 0;

	memset(to, 0, sizeof(*to));
	snprintf(to->now, sizeof(to->now), "%s", from->now);
	for (unsigned i = 0; i < from->n && r == 0; i++)
		r = ckpt_tree_add(to, &from->c[i]);
	if (r == 0)
		r = ckpt_tree_set_current(to, from->current, from->ncurrent);
	if (r < 0)
		ckpt_tree_free(to);
	return r;
}

int ckpt_delete(const struct ckpt_vm *vm, const char *ref, bool running, char *err, size_t errlen)
{
	struct vmconfig *cfg = NULL;
	struct ckpt_tree t, sim;
	struct ckpt *c;
	char id[CKPT_ID_LEN + 1], label[CKPT_LABEL_MAX + 1], state[PATH_MAX];
	unsigned merges = 0;
	int r;

	if ((r = ckpt_load_tree(vm, &t, err, errlen)) < 0)
		return r;
	if ((r = ckpt_tree_find(&t, ref, &c, err, errlen)) < 0)
		goto out;
	snprintf(id, sizeof(id), "%s", c->id);
	snprintf(label, sizeof(label), "%s", c->label);
	if (running) {
		if ((r = tree_copy(&t, &sim)) < 0)
			goto oom;
		ckpt_tree_get(&sim, id)->deleted = true;
		r = ckpt_collapse(vm, &sim, NULL, true, &merges, err, errlen);
		ckpt_tree_free(&sim);
		if (r == 0 && merges) {
			snprintf(err, errlen,
				 "deleting checkpoint '%s' merges the disks VM '%s' is running on, "
				 "which cannot be done while it runs; turn it off first (osio "
				 "shutdown %s), then delete the checkpoint",
				 label, vm->name, vm->name);
			r = -EBUSY;
			goto out;
		}
	}
	if ((r = ckpt_load_config(vm, &cfg, err, errlen)) < 0)
		goto out;
	c->deleted = true;
	bool had_state = c->has_state;
	c->has_state = false;
	if ((r = ckpt_save_tree(vm, &t, err, errlen)) < 0)
		goto out;
	if (had_state && ckpt_state_path(vm, id, state, sizeof(state)) == 0)
		unlink(state);
	/* Its settings go with it at once: a deleted checkpoint is never applied, and what a
	 * merge needs (its images) is in the tree. */
	if (ckpt_config_path(vm, id, state, sizeof(state)) == 0)
		unlink(state);
	ckpt_say(vm, "Deleted checkpoint '%s' (%s) of VM '%s'", label, id, vm->name);
	r = ckpt_collapse(vm, &t, cfg, false, NULL, err, errlen);
	if (r == 0 && ckpt_tree_get(&t, id))
		ckpt_say(vm,
			 "  its disk images stay until the checkpoints made after it are deleted "
			 "(they are built on them)");
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	vmconfig_free(cfg);
	ckpt_tree_free(&t);
	return r;
}
