/* Applying a checkpoint to a VM that is off: the checkpoint's copy of the settings made the
 * VM's (but for what names the VM and how the host runs it), new differencing images on the
 * checkpoint's frozen ones, the checkpoint's saved state made the VM's, and the state the VM had
 * discarded (said, never asked, as Hyper-V's Apply does). */
#include "hypervisor/checkpoint_int.h"

#include "hypervisor/fileio.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const ckpt_kept_keys[] = {
    "name",	   "uuid",	   "worker_user", "autostart", "autostart_order", "autostart_delay",
    "stop_action", "stop_timeout", NULL,
};

int ckpt_read_config_text(const char *path, char **out, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > VMCONFIG_MAX_SIZE) {
		r = -EFBIG;
		goto out;
	}
	*len = (size_t)st.st_size;
	*out = malloc(*len + 1);
	if (!*out) {
		r = -ENOMEM;
		goto out;
	}
	r = file_pread_all(fd, *out, *len, 0);
	if (r < 0) {
		free(*out);
		*out = NULL;
	} else {
		(*out)[*len] = '\0';
	}
out:
	close(fd);
	return r;
}

/* The settings the checkpoint gives the VM: its copy, with the keys of ckpt_kept_keys as cur
 * has them, to be written to the VM's vmconfig. *out NULL (and 0) when the checkpoint has no
 * copy (made before osio kept them). */
static int saved_config(const struct ckpt_vm *vm, const char *id, const struct vmconfig *cur,
			struct vmconfig **out, char *err, size_t errlen)
{
	char path[PATH_MAX], line[1024];
	struct vmconfig_error ve;
	struct vmconfig *cfg = NULL;
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if (ckpt_config_path(vm, id, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "%s: the VM's folder path is too long", vm->dir);
		return -ENAMETOOLONG;
	}
	r = ckpt_read_config_text(path, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		snprintf(err, errlen,
			 "%s: cannot read the checkpoint's settings: %s; remove the file to apply "
			 "only the checkpoint's disks",
			 path, r == -EFBIG ? "not a vmconfig file" : strerror(-r));
		return r;
	}
	/* Checked under its own name (for the message), then made the VM's. */
	cfg = vmconfig_parse(text, len, path, &ve);
	if (cfg) {
		vmconfig_free(cfg);
		cfg = vmconfig_parse(text, len, vm->vmconfig, &ve);
	}
	free(text);
	if (!cfg) {
		vmconfig_error_format(&ve, line, sizeof(line));
		snprintf(err, errlen,
			 "%s (the checkpoint's copy of the settings is damaged; remove it to apply "
			 "only the checkpoint's disks)",
			 line);
		return -EINVAL;
	}
	for (unsigned i = 0; ckpt_kept_keys[i]; i++) {
		const char *v = vmconfig_get(cur, "vm", NULL, ckpt_kept_keys[i]);

		if (v)
			r = vmconfig_set(cfg, "vm", NULL, ckpt_kept_keys[i], v, &ve);
		else if ((r = vmconfig_unset(cfg, "vm", NULL, ckpt_kept_keys[i])) == -ENOENT)
			r = 0;
		if (r < 0) {
			vmconfig_error_format(&ve, err, errlen);
			vmconfig_free(cfg);
			return r;
		}
	}
	*out = cfg;
	return 0;
}

struct restore {
	const struct ckpt_image *frozen;
	char next[PATH_MAX], old[PATH_MAX]; /* old "": the disk was not in the VM's settings */
	char format[16];
	bool discard; /* old is ours and nothing else needs it */
};

/* A new image on its frozen one for every disk of the checkpoint that the settings to be
 * (target: the checkpoint's copy, or the VM's own when the checkpoint has none) have. */
static int make_images(const struct ckpt_vm *vm, const struct ckpt_tree *t,
		       const struct vmconfig *cur, const struct vmconfig *target,
		       const struct ckpt *c, struct restore *rs, unsigned *nrs, char *err,
		       size_t errlen)
{
	unsigned n = vmconfig_count(target, "disk");
	int r = 0;

	*nrs = 0;
	for (unsigned i = 0; i < n; i++) {
		const char *name = vmconfig_section_name(target, "disk", i);
		const char *file = vmconfig_get(target, "disk", name, "file");
		const char *now = vmconfig_get(cur, "disk", name, "file");
		const struct ckpt_image *im = ckpt_image_of(c->images, c->nimages, name);
		struct restore *x = &rs[*nrs];
		char frozen[PATH_MAX], fmt[16], tag[CKPT_ID_LEN + 1];

		if (!file || !ckpt_disk_writable(target, name))
			continue;
		if (!im) {
			ckpt_say(vm,
				 "  disk '%s' did not exist when the checkpoint was made: kept as "
				 "it is",
				 name);
			continue;
		}
		x->old[0] = 0;
		if (ckpt_resolve(vm, im->file, frozen, sizeof(frozen)) < 0 ||
		    (now && ckpt_resolve(vm, now, x->old, sizeof(x->old)) < 0)) {
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
		x->discard = x->old[0] && ckpt_owned_current(vm, t, x->old) &&
			     ckpt_in_folder(vm, x->old) && !ckpt_frozen_anywhere(vm, t, x->old);
		(*nrs)++;
	}
	for (unsigned i = 0; i < c->nimages; i++)
		if (!vmconfig_get(target, "disk", c->images[i].disk, "file"))
			ckpt_say(vm,
				 "  the checkpoint's disk '%s' is no longer in the VM's settings: "
				 "not restored",
				 c->images[i].disk);
	return 0;
}

/* After the apply: what became of the images the VM's disks used before it. */
static void say_old_images(const struct ckpt_vm *vm, const struct vmconfig *cur,
			   const struct vmconfig *target, const struct restore *rs, unsigned nrs)
{
	char old[PATH_MAX], now[PATH_MAX];

	for (unsigned i = 0; i < nrs; i++) {
		if (!rs[i].old[0])
			ckpt_say(vm, "  disk '%s' is back in the VM's settings",
				 rs[i].frozen->disk);
		else if (rs[i].discard && unlink(rs[i].old) == 0)
			ckpt_say(vm, "  discarded %s (disk '%s' as it was before the apply)",
				 rs[i].old, rs[i].frozen->disk);
		else if (!rs[i].discard)
			ckpt_say(vm, "  disk '%s' no longer uses %s (kept)", rs[i].frozen->disk,
				 rs[i].old);
	}
	if (cur == target)
		return;
	/* The disks the checkpoint did not restore: added since, or set otherwise. */
	for (unsigned i = 0; i < vmconfig_count(cur, "disk"); i++) {
		const char *name = vmconfig_section_name(cur, "disk", i);
		const char *file = vmconfig_get(cur, "disk", name, "file");
		const char *then = vmconfig_get(target, "disk", name, "file");
		bool restored = false;

		for (unsigned j = 0; j < nrs; j++)
			restored = restored || strcmp(rs[j].frozen->disk, name) == 0;
		if (!file || restored || ckpt_resolve(vm, file, old, sizeof(old)) < 0)
			continue;
		if (!then)
			ckpt_say(vm,
				 "  disk '%s' was added after the checkpoint: it leaves the VM's "
				 "settings; %s is kept",
				 name, old);
		else if (ckpt_resolve(vm, then, now, sizeof(now)) == 0 && !ckpt_same_file(old, now))
			ckpt_say(vm, "  disk '%s' no longer uses %s (kept)", name, old);
	}
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
	struct vmconfig *cfg = NULL, *orig = NULL, *saved_cfg = NULL, *target;
	struct vmconfig_error ve;
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
	if ((r = saved_config(vm, id, cfg, &saved_cfg, err, errlen)) < 0)
		goto out;
	target = saved_cfg ? saved_cfg : cfg;
	rs = calloc(vmconfig_count(target, "disk") + 1, sizeof(*rs));
	if (!rs) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	ckpt_say(vm, "Applying checkpoint '%s' (%s) to VM '%s'", c->label, id, vm->name);
	if ((r = make_images(vm, &t, cfg, target, c, rs, &nrs, err, errlen)) < 0)
		goto undo;
	for (unsigned i = 0; i < nrs; i++)
		if ((r = ckpt_set_disk(target, vm, rs[i].frozen->disk, rs[i].next, rs[i].format,
				       err, errlen)) < 0)
			goto undo;
	if (vmconfig_validate(target, &ve) < 0) {
		vmconfig_error_format(&ve, err, errlen);
		r = -EINVAL;
		goto undo;
	}
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
	if ((r = ckpt_save_config(target, err, errlen)) < 0)
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
	if (saved_cfg)
		ckpt_say(vm, "  the VM's settings are the checkpoint's again");
	else
		ckpt_say(vm,
			 "  the checkpoint has no copy of the VM's settings (it was made before "
			 "osio kept them): only its disks are restored, the settings stay as "
			 "they are");
	say_old_images(vm, cfg, target, rs, nrs);
	if (with_state)
		ckpt_say(vm, "  the VM resumes from the checkpoint's saved state at osio start");
	r = ckpt_collapse(vm, &t, target, false, NULL, err, errlen);
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
	vmconfig_free(saved_cfg);
	ckpt_tree_free(&t);
	return r;
}
