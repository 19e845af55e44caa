/* osio rename (vmstore_rename): a VM that is off gets another name: its
 * folder, its vmconfig (file and [vm] name) and the disks named after it,
 * with the paths that name them in the vmconfig, checkpoints.json and the
 * checkpoints' copies of the settings; any failure puts back what was done. */
#include "hypervisor/vmstore.h"
#include "hypervisor/vmstore_int.h"

#include "devices/block/block.h"
#include "hypervisor/boot/smbios.h"
#include "hypervisor/checkpoint.h"
#include "hypervisor/store.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MOVES_MAX VMCONFIG_MAX_REPEAT

/* A disk image that follows the VM's name: OLD.vhdx -> NEW.vhdx. */
struct disk_move {
	char from[PATH_BUF]; /* absolute, in the old folder */
	char to[PATH_BUF];   /* absolute, in the old folder, the new name */
	char base[256];	     /* the new file name */
	bool moved;
};

/* A checkpoint's copy of the settings (checkpoints/ID.vmconfig) whose paths change. */
struct cfg_copy {
	char path[PATH_BUF + 80];
	char *orig, *text; /* its bytes as they were, and to be */
	size_t orig_len, len;
	bool written;
};

struct rename_job {
	const char *old, *new_name;
	char old_dir[PATH_BUF], new_dir[PATH_BUF];
	char old_cfg[PATH_BUF], staged_cfg[PATH_BUF + 80];
	struct vmconfig *cfg;
	struct ckpt_tree tree;
	char ckpt_path[PATH_BUF];
	char *ckpt_orig; /* checkpoints.json as it was (NULL: none) */
	size_t ckpt_len;
	bool ckpt_changed, ckpt_written, cfg_written;
	/* Images something else reads as a parent: they keep their names. */
	char (*parents)[PATH_MAX];
	unsigned nparents;
	struct disk_move moves[MOVES_MAX];
	unsigned nmoves;
	struct cfg_copy *copies;
	unsigned ncopies;
};

/* dir/file for a relative file; file when absolute. */
static int resolve(const char *dir, const char *file, char *out, size_t size)
{
	int n = file[0] == '/' ? snprintf(out, size, "%s", file)
			       : snprintf(out, size, "%s/%s", dir, file);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* The new file name of a disk called base, when it follows the VM's name:
 * OLD.vhdx or OLD-N.vhdx (N decimal). */
static bool follows_name(const struct rename_job *j, const char *base, char *out, size_t size)
{
	size_t n = strlen(j->old);
	const char *rest;

	if (strncmp(base, j->old, n) != 0)
		return false;
	rest = base + n;
	if (strcmp(rest, ".vhdx") != 0) {
		size_t digits = 0;
		if (rest[0] != '-')
			return false;
		while (rest[1 + digits] >= '0' && rest[1 + digits] <= '9')
			digits++;
		if (!digits || digits > 9 || strcmp(rest + 1 + digits, ".vhdx") != 0)
			return false;
	}
	n = (size_t)snprintf(out, size, "%s%s", j->new_name, rest);
	return n < size;
}

static void add_parent(struct rename_job *j, const char *path)
{
	char real[PATH_MAX];
	void *np;

	if (!realpath(path, real))
		return;
	np = realloc(j->parents, (j->nparents + 1) * sizeof(*j->parents));
	if (!np)
		return;
	j->parents = np;
	snprintf(j->parents[j->nparents++], PATH_MAX, "%s", real);
}

static bool is_parent(const struct rename_job *j, const char *path)
{
	char real[PATH_MAX];

	if (!realpath(path, real))
		return false;
	for (unsigned i = 0; i < j->nparents; i++)
		if (strcmp(j->parents[i], real) == 0)
			return true;
	return false;
}

/* Every image that another one reads through: the checkpoints' frozen
 * images and the parents of the VM's disks. */
static void find_parents(struct rename_job *j)
{
	char path[PATH_BUF];

	for (unsigned i = 0; i < j->tree.n; i++)
		for (unsigned k = 0; k < j->tree.c[i].nimages; k++)
			if (resolve(j->old_dir, j->tree.c[i].images[k].file, path, sizeof(path)) ==
			    0)
				add_parent(j, path);
	for (unsigned i = 0; i < vmconfig_count(j->cfg, "disk"); i++) {
		const char *sec = vmconfig_section_name(j->cfg, "disk", i);
		const char *file = vmconfig_get(j->cfg, "disk", sec, "file");
		struct block_dev *bd;

		if (!file || resolve(j->old_dir, file, path, sizeof(path)) < 0 ||
		    block_open(path, NULL, BLOCK_RDONLY | BLOCK_SHARE, &bd, NULL, 0) < 0)
			continue;
		for (struct block_dev *b = block_backing(bd); b; b = block_backing(b))
			add_parent(j, block_path(b));
		block_close(bd);
	}
}

static bool in_old_dir(const struct rename_job *j, const char *abs)
{
	size_t n = strlen(j->old_dir);
	return strncmp(abs, j->old_dir, n) == 0 && abs[n] == '/';
}

/* What a path written as file becomes: a moved disk's new name, or an
 * absolute path into the old folder moved to the new one; out "" when it
 * stays as written. */
static int new_value(const struct rename_job *j, const char *file, char *out, size_t size)
{
	char abs[PATH_BUF];
	int n;

	out[0] = '\0';
	if (resolve(j->old_dir, file, abs, sizeof(abs)) < 0)
		return 0;
	for (unsigned i = 0; i < j->nmoves; i++) {
		if (strcmp(j->moves[i].from, abs) != 0)
			continue;
		n = file[0] == '/' ? snprintf(out, size, "%s/%s", j->new_dir, j->moves[i].base)
				   : snprintf(out, size, "%s", j->moves[i].base);
		return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
	}
	if (file[0] == '/' && in_old_dir(j, abs)) {
		n = snprintf(out, size, "%s%s", j->new_dir, abs + strlen(j->old_dir));
		return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
	}
	return 0;
}

/* The disks that follow the name, in j->moves. */
static int plan_moves(struct rename_job *j, char *err, size_t errlen)
{
	for (unsigned i = 0; i < vmconfig_count(j->cfg, "disk"); i++) {
		const char *sec = vmconfig_section_name(j->cfg, "disk", i);
		const char *file = vmconfig_get(j->cfg, "disk", sec, "file");
		const char *slash;
		struct disk_move *m;
		char base[256];
		struct stat st;

		if (!file || j->nmoves == MOVES_MAX)
			continue;
		m = &j->moves[j->nmoves];
		if (resolve(j->old_dir, file, m->from, sizeof(m->from)) < 0)
			continue;
		slash = strrchr(m->from, '/');
		if ((size_t)(slash - m->from) != strlen(j->old_dir) ||
		    strncmp(m->from, j->old_dir, strlen(j->old_dir)) != 0 ||
		    !follows_name(j, slash + 1, base, sizeof(base)))
			continue;
		if (lstat(m->from, &st) < 0 || !S_ISREG(st.st_mode) || is_parent(j, m->from))
			continue;
		snprintf(m->base, sizeof(m->base), "%s", base);
		if (resolve(j->old_dir, base, m->to, sizeof(m->to)) < 0)
			return -ENAMETOOLONG;
		if (lstat(m->to, &st) == 0) {
			snprintf(err, errlen,
				 "%s/%s exists already: the disk %s cannot take that name; move it "
				 "away first",
				 j->old_dir, base, slash + 1);
			return -EEXIST;
		}
		j->nmoves++;
	}
	return 0;
}

static int set(struct rename_job *j, const char *section, const char *name, const char *key,
	       const char *value, char *err, size_t errlen)
{
	struct vmconfig_error e;
	char line[1024];

	if (vmconfig_set(j->cfg, section, name, key, value, &e) == 0)
		return 0;
	vmconfig_error_format(&e, line, sizeof(line));
	snprintf(err, errlen, "%s", line);
	return -EINVAL;
}

/* The UUID the VM had by its old name (the guest's SMBIOS one), as text:
 * written into [vm] so that the guest keeps it. */
static void uuid_of_name(const char *name, char *out, size_t size)
{
	uint8_t u[16];

	smbios_uuid_from_name(name, u);
	/* SMBIOS keeps the first three fields little-endian. */
	snprintf(out, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

/* The vmconfig's keys that hold paths: those into the folder follow it. */
static const struct {
	const char *section, *key;
} path_keys[] = {
    {"disk", "file"},	 {"dvd", "file"},
    {"boot", "kernel"},	 {"boot", "initrd"},
    {"boot", "bios"},	 {"boot", "vgabios"},
    {"nic", "tftp"},	 {"serial", "path"},
    {"console", "path"}, {"display", "vnc_password_file"},
};

/* The paths of cfg into the folder follow it (path_keys, new_value); *changed when one did. */
static int edit_paths(const struct rename_job *j, struct vmconfig *cfg, bool *changed, char *err,
		      size_t errlen)
{
	char value[PATH_BUF], line[1024];
	struct vmconfig_error e;
	int r;

	for (size_t k = 0; k < sizeof(path_keys) / sizeof(path_keys[0]); k++) {
		const char *type = path_keys[k].section, *key = path_keys[k].key;

		for (unsigned i = 0; i < vmconfig_count(cfg, type); i++) {
			const char *sec = vmconfig_section_name(cfg, type, i);
			const char *file = vmconfig_get(cfg, type, sec, key);

			if (!file || !file[0])
				continue;
			if ((r = new_value(j, file, value, sizeof(value))) < 0) {
				snprintf(err, errlen, "%s: the new path is too long", file);
				return r;
			}
			if (!value[0])
				continue;
			if (vmconfig_set(cfg, type, sec[0] ? sec : NULL, key, value, &e) < 0) {
				vmconfig_error_format(&e, line, sizeof(line));
				snprintf(err, errlen, "%s", line);
				return -EINVAL;
			}
			*changed = true;
		}
	}
	return 0;
}

/* The vmconfig as it is to be: [vm] name, uuid, the paths into the folder. */
static int edit_config(struct rename_job *j, char *err, size_t errlen)
{
	struct vmconfig_error e;
	bool changed = false;
	char uuid[40];
	int r;

	if (!vmconfig_get(j->cfg, "vm", NULL, "uuid")) {
		/* A store VM runs under its store name (cli/vmload.c). */
		uuid_of_name(j->old, uuid, sizeof(uuid));
		if ((r = set(j, "vm", NULL, "uuid", uuid, err, errlen)) < 0)
			return r;
	}
	if ((r = set(j, "vm", NULL, "name", j->new_name, err, errlen)) < 0 ||
	    (r = edit_paths(j, j->cfg, &changed, err, errlen)) < 0)
		return r;
	if (vmconfig_validate(j->cfg, &e) < 0) {
		vmconfig_error_format(&e, err, errlen);
		return -EINVAL;
	}
	return 0;
}

static int edit_image(struct rename_job *j, struct ckpt_image *im)
{
	char value[PATH_BUF];
	char *dup;
	int r = new_value(j, im->file, value, sizeof(value));

	if (r < 0 || !value[0])
		return r;
	if (!(dup = strdup(value)))
		return -ENOMEM;
	free(im->file);
	im->file = dup;
	j->ckpt_changed = true;
	return 0;
}

/* The checkpoint tree with the moved disks' new paths. */
static int edit_tree(struct rename_job *j, char *err, size_t errlen)
{
	int r = 0;

	for (unsigned i = 0; i < j->tree.n && r == 0; i++)
		for (unsigned k = 0; k < j->tree.c[i].nimages && r == 0; k++)
			r = edit_image(j, &j->tree.c[i].images[k]);
	for (unsigned k = 0; k < j->tree.ncurrent && r == 0; k++)
		r = edit_image(j, &j->tree.current[k]);
	if (r < 0)
		snprintf(err, errlen, "%s: cannot record the new paths: %s", j->ckpt_path,
			 strerror(-r));
	return r;
}

/* A checkpoint's copy of the settings with the new paths, in j->copies when they change. A
 * copy that is missing (made before osio kept them) or cannot be read is left as it is: apply
 * says what is wrong with it. */
static int edit_copy(struct rename_job *j, const char *id, char *err, size_t errlen)
{
	struct cfg_copy *c = &j->copies[j->ncopies];
	struct vmconfig_error e;
	struct vmconfig *cfg;
	bool changed = false;
	int n, r;

	memset(c, 0, sizeof(*c));
	n = snprintf(c->path, sizeof(c->path), "%s/checkpoints/%s.vmconfig", j->old_dir, id);
	if (n < 0 || (size_t)n >= sizeof(c->path))
		return 0;
	if (ckpt_read_config_text(c->path, &c->orig, &c->orig_len) < 0)
		return 0;
	cfg = vmconfig_parse(c->orig, c->orig_len, c->path, &e);
	if (!cfg) {
		free(c->orig);
		return 0;
	}
	r = edit_paths(j, cfg, &changed, err, errlen);
	if (r == 0 && changed && !(c->text = vmconfig_format(cfg, &c->len))) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
	}
	vmconfig_free(cfg);
	if (r < 0 || !changed) {
		free(c->orig);
		return r;
	}
	j->ncopies++;
	return 0;
}

/* Every checkpoint's copy of the settings (deleted ones' too: they wait to merge). */
static int edit_copies(struct rename_job *j, char *err, size_t errlen)
{
	int r = 0;

	if (j->tree.n && !(j->copies = calloc(j->tree.n, sizeof(*j->copies)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < j->tree.n && r == 0; i++)
		r = edit_copy(j, j->tree.c[i].id, err, errlen);
	return r;
}

/* checkpoints.json's bytes, for undo; none is fine. */
static int read_orig(struct rename_job *j, char *err, size_t errlen)
{
	FILE *f = fopen(j->ckpt_path, "rb");
	char buf[65536];
	size_t n;

	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		char *p = realloc(j->ckpt_orig, j->ckpt_len + n + 1);
		if (!p) {
			fclose(f);
			return -ENOMEM;
		}
		j->ckpt_orig = p;
		memcpy(p + j->ckpt_len, buf, n);
		j->ckpt_len += n;
	}
	fclose(f);
	if (!j->ckpt_orig && !(j->ckpt_orig = calloc(1, 1)))
		return -ENOMEM;
	return 0;
}

static int prepare(struct rename_job *j, char *err, size_t errlen)
{
	struct vmconfig_error e;
	int r;

	if ((r = vmstore_path(j->old, NULL, j->old_dir, sizeof(j->old_dir))) < 0 ||
	    (r = vmstore_path(j->new_name, NULL, j->new_dir, sizeof(j->new_dir))) < 0 ||
	    (r = vmstore_vmconfig(j->old, j->old_cfg, sizeof(j->old_cfg))) < 0) {
		snprintf(err, errlen, "%s", store_path_problem(r));
		return r;
	}
	snprintf(j->staged_cfg, sizeof(j->staged_cfg), "%s/%s.vmconfig", j->old_dir, j->new_name);
	j->cfg = vmconfig_load(j->old_cfg, &e);
	if (!j->cfg) {
		char line[1024];
		vmconfig_error_format(&e, line, sizeof(line));
		snprintf(err, errlen, "%s (fix the vmconfig of VM '%s' first)", line, j->old);
		return -EINVAL;
	}
	struct ckpt_vm vm = {.name = j->old, .dir = j->old_dir, .vmconfig = j->old_cfg};
	if ((r = ckpt_tree_path(&vm, j->ckpt_path, sizeof(j->ckpt_path))) < 0 ||
	    (r = ckpt_tree_load(j->ckpt_path, &j->tree, err, errlen)) < 0)
		return r;
	if ((r = read_orig(j, err, errlen)) < 0) {
		snprintf(err, errlen, "%s: cannot read it: %s", j->ckpt_path, strerror(-r));
		return r;
	}
	find_parents(j);
	if ((r = plan_moves(j, err, errlen)) < 0 || (r = edit_config(j, err, errlen)) < 0 ||
	    (r = edit_tree(j, err, errlen)) < 0 || (r = edit_copies(j, err, errlen)) < 0)
		return r;
	return 0;
}

/* Puts back what commit did, in reverse. */
static void undo(struct rename_job *j)
{
	char err[512];

	for (unsigned i = j->ncopies; i-- > 0;) {
		struct cfg_copy *c = &j->copies[i];
		if (c->written && store_write_atomic(c->path, c->orig, c->orig_len, 0600, true, err,
						     sizeof(err)) < 0)
			fprintf(stderr, "osio: %s\n", err);
	}
	if (j->ckpt_written && j->ckpt_orig &&
	    store_write_atomic(j->ckpt_path, j->ckpt_orig, j->ckpt_len, 0600, true, err,
			       sizeof(err)) < 0)
		fprintf(stderr, "osio: %s\n", err);
	if (j->cfg_written)
		unlink(j->staged_cfg);
	for (unsigned i = j->nmoves; i-- > 0;)
		if (j->moves[i].moved && renameat2(AT_FDCWD, j->moves[i].to, AT_FDCWD,
						   j->moves[i].from, RENAME_NOREPLACE) < 0)
			fprintf(stderr, "osio: %s: cannot give it back its name %s: %s\n",
				j->moves[i].to, j->moves[i].from, strerror(errno));
	store_sync_dir(j->old_dir);
}

static int commit(struct rename_job *j, char *err, size_t errlen)
{
	char vms[PATH_BUF], path[PATH_BUF + 80];
	int r;

	for (unsigned i = 0; i < j->nmoves; i++) {
		struct disk_move *m = &j->moves[i];
		if (renameat2(AT_FDCWD, m->from, AT_FDCWD, m->to, RENAME_NOREPLACE) < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: cannot rename it to %s: %s", m->from, m->base,
				 strerror(-r));
			goto fail;
		}
		m->moved = true;
	}
	if ((r = vmconfig_save(j->cfg, j->staged_cfg)) < 0) {
		snprintf(err, errlen, "%s: cannot write it: %s", j->staged_cfg, strerror(-r));
		goto fail;
	}
	j->cfg_written = true;
	if (j->ckpt_changed) {
		/* Atomic: a failed save left the old file. */
		if ((r = ckpt_tree_save(&j->tree, j->ckpt_path, err, errlen)) < 0)
			goto fail;
		j->ckpt_written = true;
	}
	for (unsigned i = 0; i < j->ncopies; i++) {
		struct cfg_copy *c = &j->copies[i];
		if ((r = store_write_atomic(c->path, c->text, c->len, 0600, true, err, errlen)) < 0)
			goto fail;
		c->written = true;
	}
	if (renameat2(AT_FDCWD, j->old_dir, AT_FDCWD, j->new_dir, RENAME_NOREPLACE) < 0) {
		r = -errno;
		if (r == -EEXIST || r == -ENOTEMPTY)
			snprintf(err, errlen, "VM '%s' exists already (%s); choose another name",
				 j->new_name, j->new_dir);
		else
			snprintf(err, errlen, "%s: cannot rename the VM's folder to %s: %s",
				 j->old_dir, j->new_dir, strerror(-r));
		goto fail;
	}
	/* From here on the VM is NEW: the old vmconfig goes. */
	snprintf(path, sizeof(path), "%s/%s.vmconfig", j->new_dir, j->old);
	if (unlink(path) < 0 && errno != ENOENT)
		fprintf(stderr, "osio: %s: cannot remove it: %s\n", path, strerror(errno));
	store_sync_dir(j->new_dir);
	if (store_path(vms, sizeof(vms), "vms") == 0)
		store_sync_dir(vms);
	return 0;
fail:
	undo(j);
	return r;
}

static int check_state(const char *old, char *err, size_t errlen)
{
	struct vm_info info;
	int pid = 0;

	if (vmstore_info(old, &info) < 0) {
		snprintf(err, errlen, "there is no VM called '%s' (osio list shows them)", old);
		return -ENOENT;
	}
	switch (info.state) {
	case VM_OFF:
	case VM_SAVED:
	case VM_CRASHED:
		break;
	default:
		snprintf(err, errlen,
			 "VM '%s' is %s (pid %d): turn it off first with osio stop %s (or osio "
			 "shutdown %s)",
			 old, vm_state_name(info.state), info.pid, old, old);
		return -EBUSY;
	}
	if (vmstore_worker_alive(old, &pid)) {
		snprintf(err, errlen,
			 "VM '%s' is running (pid %d): turn it off first with osio "
			 "stop %s",
			 old, pid, old);
		return -EBUSY;
	}
	return 0;
}

int vmstore_rename(const char *old, const char *new_name, char *err, size_t errlen)
{
	struct rename_job *j;
	int lock = -1, r;

	if ((r = vmstore_check_name(old, err, errlen)) < 0)
		return r;
	if ((r = vmstore_check_name(new_name, err, errlen)) < 0 ||
	    (r = vmconfig_check_name(new_name, err, errlen)) < 0)
		return r;
	if (strcmp(old, new_name) == 0) {
		snprintf(err, errlen, "VM '%s' is called that already", old);
		return -EINVAL;
	}
	if (!vmstore_exists(old)) {
		snprintf(err, errlen, "there is no VM called '%s' (osio list shows them)", old);
		return -ENOENT;
	}
	if (!(j = calloc(1, sizeof(*j)))) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	j->old = old;
	j->new_name = new_name;
	if ((r = vmstore_lock(old, &lock, err, errlen)) < 0 ||
	    (r = check_state(old, err, errlen)) < 0)
		goto out;
	char dir[PATH_BUF];
	struct stat st;
	if (vmstore_exists(new_name) ||
	    (vmstore_path(new_name, NULL, dir, sizeof(dir)) == 0 && lstat(dir, &st) == 0)) {
		snprintf(err, errlen,
			 "VM '%s' exists already; choose another name (osio list shows them)",
			 new_name);
		r = -EEXIST;
		goto out;
	}
	if ((r = prepare(j, err, errlen)) < 0)
		goto out;
	r = commit(j, err, errlen);
out:
	vmstore_unlock(lock);
	vmconfig_free(j->cfg);
	ckpt_tree_free(&j->tree);
	free(j->ckpt_orig);
	free(j->parents);
	for (unsigned i = 0; i < j->ncopies; i++) {
		free(j->copies[i].orig);
		free(j->copies[i].text);
	}
	free(j->copies);
	free(j);
	return r;
}
