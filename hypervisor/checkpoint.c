/* Checkpoint operations on a VM's folder: plan and record a new checkpoint, create one of a VM
 * that is off, apply one, delete one. How disks and the tree change is in checkpoint.h; the
 * merges that deletes cause are in checkpoint_merge.c. */
#include "hypervisor/checkpoint.h"

#include "devices/block/block.h"
#include "hypervisor/checkpoint_int.h"
#include "hypervisor/store.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void ckpt_say(const struct ckpt_vm *vm, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (!vm->say)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	vm->say(vm->opaque, line);
}

static int join(char *buf, size_t size, const char *a, const char *b)
{
	int n = snprintf(buf, size, "%s/%s", a, b);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int ckpt_tree_path(const struct ckpt_vm *vm, char *buf, size_t size)
{
	return join(buf, size, vm->dir, "checkpoints/checkpoints.json");
}

int ckpt_state_path(const struct ckpt_vm *vm, const char *id, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/checkpoints/%s.vmstate", vm->dir, id);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int ckpt_running_path(const struct ckpt_vm *vm, char *buf, size_t size)
{
	return join(buf, size, vm->dir, ".running.vmconfig");
}

int ckpt_config_path(const struct ckpt_vm *vm, const char *id, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/checkpoints/%s.vmconfig", vm->dir, id);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int ckpt_saved_path(const struct ckpt_vm *vm, char *buf, size_t size)
{
	return join(buf, size, vm->dir, "saved.vmstate");
}

int ckpt_resolve(const struct ckpt_vm *vm, const char *file, char *buf, size_t size)
{
	if (file[0] == '/') {
		int n = snprintf(buf, size, "%s", file);
		return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
	}
	return join(buf, size, vm->dir, file);
}

void ckpt_record_name(const struct ckpt_vm *vm, const char *abs, char *buf, size_t size)
{
	size_t dl = strlen(vm->dir);

	if (strncmp(abs, vm->dir, dl) == 0 && abs[dl] == '/' && !strchr(abs + dl + 1, '/'))
		snprintf(buf, size, "%s", abs + dl + 1);
	else
		snprintf(buf, size, "%s", abs);
}

bool ckpt_in_folder(const struct ckpt_vm *vm, const char *abs)
{
	size_t dl = strlen(vm->dir);
	const char *base = abs + dl + 1;

	return strncmp(abs, vm->dir, dl) == 0 && abs[dl] == '/' && base[0] && !strchr(base, '/') &&
	       strcmp(base, ".") != 0 && strcmp(base, "..") != 0;
}

bool ckpt_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) < 0 || stat(b, &sb) < 0)
		return strcmp(a, b) == 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int ckpt_load_config(const struct ckpt_vm *vm, struct vmconfig **out, char *err, size_t errlen)
{
	struct vmconfig_error ve;

	*out = vmconfig_load(vm->vmconfig, &ve);
	if (!*out) {
		vmconfig_error_format(&ve, err, errlen);
		return -EINVAL;
	}
	return 0;
}

int ckpt_save_config(const struct vmconfig *cfg, char *err, size_t errlen)
{
	int r = vmconfig_save(cfg, NULL);

	if (r < 0)
		snprintf(err, errlen, "%s: cannot write: %s", vmconfig_path(cfg), strerror(-r));
	return r;
}

bool ckpt_disk_writable(const struct vmconfig *cfg, const char *disk)
{
	const char *ro = vmconfig_get(cfg, "disk", disk, "readonly");
	bool b = false;
	char why[128];

	return !ro || vmconfig_parse_bool(ro, &b, why, sizeof(why)) < 0 || !b;
}

int ckpt_set_disk(struct vmconfig *cfg, const struct ckpt_vm *vm, const char *disk, const char *abs,
		  const char *format, char *err, size_t errlen)
{
	struct vmconfig_error ve;
	char rec[PATH_MAX];
	int r;

	ckpt_record_name(vm, abs, rec, sizeof(rec));
	r = vmconfig_set(cfg, "disk", disk, "file", rec, &ve);
	if (!r && format && vmconfig_get(cfg, "disk", disk, "format"))
		r = vmconfig_set(cfg, "disk", disk, "format", format, &ve);
	if (r < 0)
		vmconfig_error_format(&ve, err, errlen);
	return r;
}

int ckpt_load_tree(const struct ckpt_vm *vm, struct ckpt_tree *t, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (ckpt_tree_path(vm, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "%s: the VM's folder path is too long", vm->dir);
		return -ENAMETOOLONG;
	}
	return ckpt_tree_load(path, t, err, errlen);
}

int ckpt_save_tree(const struct ckpt_vm *vm, const struct ckpt_tree *t, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (ckpt_tree_path(vm, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "%s: the VM's folder path is too long", vm->dir);
		return -ENAMETOOLONG;
	}
	return ckpt_tree_save(t, path, err, errlen);
}

const struct ckpt_image *ckpt_image_of(const struct ckpt_image *im, unsigned n, const char *disk)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(im[i].disk, disk) == 0)
			return &im[i];
	return NULL;
}

bool ckpt_owned_current(const struct ckpt_vm *vm, const struct ckpt_tree *t, const char *abs)
{
	char p[PATH_MAX];

	for (unsigned i = 0; i < t->ncurrent; i++)
		if (t->current[i].owned &&
		    ckpt_resolve(vm, t->current[i].file, p, sizeof(p)) == 0 &&
		    ckpt_same_file(p, abs))
			return true;
	return false;
}

bool ckpt_frozen_anywhere(const struct ckpt_vm *vm, const struct ckpt_tree *t, const char *abs)
{
	char p[PATH_MAX];

	for (unsigned i = 0; i < t->n; i++)
		for (unsigned j = 0; j < t->c[i].nimages; j++)
			if (ckpt_resolve(vm, t->c[i].images[j].file, p, sizeof(p)) == 0 &&
			    ckpt_same_file(p, abs))
				return true;
	return false;
}

void ckpt_random_id(char out[CKPT_ID_LEN + 1])
{
	uint32_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		v = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() << 16 ^ (uint32_t)ts.tv_sec;
	}
	snprintf(out, CKPT_ID_LEN + 1, "%08x", v);
}

/* The name of a new differencing image for the disk whose image is cur: its stem (without a
 * "-ID" of an earlier checkpoint) and tag, in the VM's folder. VHDX images get Hyper-V's
 * extension for checkpoint disks, .avhdx; qcow2 and other formats get a qcow2 image. */
int ckpt_next_name(const struct ckpt_vm *vm, const char *cur, const char *cur_format,
		   const char *tag, char *buf, size_t size, char format[16])
{
	const char *base = strrchr(cur, '/') ? strrchr(cur, '/') + 1 : cur;
	char stem[256];
	size_t len;
	bool vhdx = strcmp(cur_format, "vhdx") == 0;

	snprintf(stem, sizeof(stem), "%s", base);
	char *dot = strrchr(stem, '.');
	if (dot && dot != stem)
		*dot = 0;
	len = strlen(stem);
	if (len > CKPT_ID_LEN + 1 && stem[len - CKPT_ID_LEN - 1] == '-') {
		bool hex = true;
		for (size_t i = len - CKPT_ID_LEN; i < len; i++)
			hex = hex && ((stem[i] >= '0' && stem[i] <= '9') ||
				      (stem[i] >= 'a' && stem[i] <= 'f'));
		if (hex)
			stem[len - CKPT_ID_LEN - 1] = 0;
	}
	snprintf(format, 16, "%s", vhdx ? "vhdx" : "qcow2");
	int n = snprintf(buf, size, "%s/%s-%s.%s", vm->dir, stem, tag, vhdx ? "avhdx" : "qcow2");
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int ckpt_image_format(const char *path, char format[16], char *err, size_t errlen)
{
	struct block_dev *bd;
	int r = block_open(path, NULL, BLOCK_RDONLY | BLOCK_SHARE, &bd, err, errlen);

	if (r < 0)
		return r;
	snprintf(format, 16, "%s", block_format(bd));
	block_close(bd);
	return 0;
}

int ckpt_make_child(const char *path, const char *format, const char *parent,
		    const char *parent_format, char *err, size_t errlen)
{
	const char *ps = strrchr(parent, '/'), *ns = strrchr(path, '/');
	bool same = ps && ns && ps - parent == ns - path && strncmp(parent, path, ps - parent) == 0;
	struct block_create_opts o = {
	    .parent = same ? ps + 1 : parent,
	    .parent_format = parent_format,
	};
	return block_create(path, format, &o, err, errlen);
}

int ckpt_copy_file(const char *from, const char *to, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	struct stat st;
	int in = -1, out = -1, r = 0;
	char *buf = NULL;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", to) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot read: %s", from, strerror(errno));
		goto out;
	}
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, store_file_mode(0600));
	if (out < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
		goto out;
	}
	/* A reflink where the file system has them; else the data regions (a saved state's
	 * RAM has holes for zero pages). */
	if (ioctl(out, FICLONE, in) < 0) {
		buf = malloc(1 << 20);
		if (!buf || ftruncate(out, st.st_size) < 0) {
			r = buf ? -errno : -ENOMEM;
			goto wfail;
		}
		off_t pos = 0;
		while (pos < st.st_size) {
			off_t data = lseek(in, pos, SEEK_DATA);
			if (data < 0)
				break; /* no more data */
			off_t hole = lseek(in, data, SEEK_HOLE);
			if (hole < 0)
				hole = st.st_size;
			for (off_t o = data; o < hole;) {
				size_t n = hole - o > (1 << 20) ? (1 << 20) : (size_t)(hole - o);
				ssize_t got = pread(in, buf, n, o);
				if (got <= 0) {
					r = got < 0 ? -errno : -EIO;
					snprintf(err, errlen, "%s: cannot read: %s", from,
						 strerror(-r));
					goto out;
				}
				if (pwrite(out, buf, (size_t)got, o) != got) {
					r = -errno ? -errno : -EIO;
					goto wfail;
				}
				o += got;
			}
			pos = hole;
		}
	}
	if (fsync(out) < 0 || rename(tmp, to) < 0) {
		r = -errno;
		goto wfail;
	}
	goto out;
wfail:
	snprintf(err, errlen, "%s: cannot write: %s%s", to, strerror(-r),
		 r == -ENOSPC ? "; free some space on its file system" : "");
out:
	free(buf);
	if (in >= 0)
		close(in);
	if (out >= 0) {
		close(out);
		if (r < 0)
			unlink(tmp);
	}
	return r;
}

/* --- create ----------------------------------------------------------------------- */

void ckpt_plan_free(struct ckpt_plan *plan)
{
	for (unsigned i = 0; i < plan->n; i++) {
		free(plan->d[i].cur);
		free(plan->d[i].next);
	}
	free(plan->d);
	memset(plan, 0, sizeof(*plan));
}

void ckpt_plan_undo(const struct ckpt_plan *plan)
{
	for (unsigned i = 0; i < plan->n; i++)
		unlink(plan->d[i].next);
	if (plan->with_state)
		unlink(plan->state);
	if (plan->config[0])
		unlink(plan->config);
}

static int plan_disks(const struct ckpt_vm *vm, const struct vmconfig *cfg, struct ckpt_plan *plan,
		      char *err, size_t errlen)
{
	unsigned n = vmconfig_count(cfg, "disk");
	char path[PATH_MAX], next[PATH_MAX], fmt[16];
	int r;

	plan->d = calloc(n ? n : 1, sizeof(*plan->d));
	if (!plan->d)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		const char *name = vmconfig_section_name(cfg, "disk", i);
		const char *file = vmconfig_get(cfg, "disk", name, "file");
		struct ckpt_plan_disk *d = &plan->d[plan->n];

		if (!file || !ckpt_disk_writable(cfg, name))
			continue;
		if ((r = ckpt_resolve(vm, file, path, sizeof(path))) < 0)
			goto long_name;
		if ((r = ckpt_image_format(path, fmt, err, errlen)) < 0)
			return r;
		if ((r = ckpt_next_name(vm, path, fmt, plan->id, next, sizeof(next), d->format)) <
		    0)
			goto long_name;
		for (unsigned j = 0; j < plan->n; j++) {
			if (strcmp(plan->d[j].next, next) != 0)
				continue;
			/* Two disks' images with one name (in different folders). */
			char tag[96];
			snprintf(tag, sizeof(tag), "%s-%s", name[0] ? name : "disk", plan->id);
			r = ckpt_next_name(vm, path, fmt, tag, next, sizeof(next), d->format);
			if (r < 0)
				goto long_name;
			break;
		}
		if (access(next, F_OK) == 0)
			return -EEXIST; /* another id */
		snprintf(d->disk, sizeof(d->disk), "%s", name);
		snprintf(d->cur_rec, sizeof(d->cur_rec), "%s", file);
		d->cur = strdup(path);
		d->next = strdup(next);
		plan->n++;
		if (!d->cur || !d->next)
			return -ENOMEM;
	}
	return 0;
long_name:
	snprintf(err, errlen, "%s: a disk's path is too long", vm->vmconfig);
	return r;
}

int ckpt_plan_create(const struct ckpt_vm *vm, const char *label, struct ckpt_plan *plan, char *err,
		     size_t errlen)
{
	struct vmconfig *cfg = NULL;
	struct ckpt_tree t;
	char dir[PATH_MAX];
	int r;

	memset(plan, 0, sizeof(*plan));
	if (label && (r = ckpt_check_label(label, err, errlen)) < 0)
		return r;
	if ((r = ckpt_load_tree(vm, &t, err, errlen)) < 0)
		return r;
	if (t.n >= CKPT_MAX) {
		snprintf(err, errlen,
			 "VM '%s' has %d checkpoints (deleted ones waiting to merge included); "
			 "delete some first",
			 vm->name, CKPT_MAX);
		r = -ENOSPC;
		goto out;
	}
	if ((r = ckpt_load_config(vm, &cfg, err, errlen)) < 0)
		goto out;
	if (label) {
		snprintf(plan->label, sizeof(plan->label), "%s", label);
	} else {
		time_t now = time(NULL);
		struct tm tm;
		char when[24];
		localtime_r(&now, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(plan->label, sizeof(plan->label), "%.70s - %.20s", vm->name, when);
	}
	for (unsigned tries = 0;; tries++) {
		ckpt_random_id(plan->id);
		if (ckpt_tree_get(&t, plan->id))
			continue;
		r = plan_disks(vm, cfg, plan, err, errlen);
		if (r != -EEXIST || tries > 16)
			break;
		for (unsigned i = 0; i < plan->n; i++) {
			free(plan->d[i].cur);
			free(plan->d[i].next);
		}
		free(plan->d);
		plan->d = NULL;
		plan->n = 0;
	}
	if (r == -EEXIST)
		snprintf(err, errlen, "%s: cannot find a free name for a checkpoint's disk",
			 vm->dir);
	if (r < 0)
		goto out;
	if (plan->n == 0) {
		snprintf(err, errlen,
			 "VM '%s' has no hard disk that a checkpoint could keep (read-only disks "
			 "and DVDs never change)",
			 vm->name);
		r = -EINVAL;
		goto out;
	}
	if ((r = ckpt_state_path(vm, plan->id, plan->state, sizeof(plan->state))) < 0 ||
	    (r = ckpt_config_path(vm, plan->id, plan->config, sizeof(plan->config))) < 0 ||
	    (r = join(dir, sizeof(dir), vm->dir, "checkpoints")) < 0) {
		snprintf(err, errlen, "%s: the VM's folder path is too long", vm->dir);
		goto out;
	}
	if (mkdir(dir, store_file_mode(0700)) < 0 && errno != EEXIST) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot create: %s", dir, strerror(errno));
	}
out:
	if (r < 0)
		ckpt_plan_free(plan);
	vmconfig_free(cfg);
	ckpt_tree_free(&t);
	return r;
}

/* The settings a running VM's worker started with (plan->running), its frozen disks named as
 * the vmconfig (orig) names them now: the worker's disks moved to new images at every
 * checkpoint since it started, and only the vmconfig records that. NULL with err when the copy
 * cannot be read: the caller keeps orig. */
static struct vmconfig *running_config(const struct ckpt_plan *plan, const struct vmconfig *orig,
				       char *err, size_t errlen)
{
	static const char *const keys[] = {"file", "format"};
	struct vmconfig_error ve;
	struct vmconfig *cfg = vmconfig_load(plan->running, &ve);

	if (!cfg) {
		vmconfig_error_format(&ve, err, errlen);
		return NULL;
	}
	for (unsigned i = 0; i < plan->n; i++) {
		const char *disk = plan->d[i].disk;
		if (!vmconfig_get(cfg, "disk", disk, "file"))
			continue; /* added to the vmconfig since: the worker has no such disk */
		for (unsigned k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			const char *v = vmconfig_get(orig, "disk", disk, keys[k]);
			int r = v ? vmconfig_set(cfg, "disk", disk, keys[k], v, &ve)
				  : vmconfig_unset(cfg, "disk", disk, keys[k]);
			if (r < 0 && r != -ENOENT) {
				if (v)
					vmconfig_error_format(&ve, err, errlen);
				else
					snprintf(err, errlen, "disk '%s': %s", disk, strerror(-r));
				vmconfig_free(cfg);
				return NULL;
			}
		}
	}
	return cfg;
}

/* The checkpoint's copy of the settings: the vmconfig's very text. */
static int keep_config(const struct vmconfig *cfg, const char *path, char *err, size_t errlen)
{
	size_t len;
	char *text = vmconfig_format(cfg, &len);
	int r;

	if (!text) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	r = store_write_atomic(path, text, len, 0600, true, err, errlen);
	free(text);
	return r;
}

int ckpt_plan_record(const struct ckpt_vm *vm, const struct ckpt_plan *plan, char *err,
		     size_t errlen)
{
	struct vmconfig *cfg = NULL, *orig = NULL, *ran = NULL;
	struct ckpt_image *frozen = calloc(plan->n + 1, sizeof(*frozen));
	struct ckpt_image *cur = NULL;
	struct ckpt_tree t;
	unsigned ncur = plan->n;
	int r = -ENOMEM;

	memset(&t, 0, sizeof(t));
	if (!frozen) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((r = ckpt_load_tree(vm, &t, err, errlen)) < 0 ||
	    (r = ckpt_load_config(vm, &cfg, err, errlen)) < 0 ||
	    (r = ckpt_load_config(vm, &orig, err, errlen)) < 0)
		goto out;
	cur = calloc(plan->n + t.ncurrent + 1, sizeof(*cur));
	if (!cur) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < plan->n; i++) {
		const struct ckpt_plan_disk *d = &plan->d[i];
		char nrec[PATH_MAX];

		if ((r = ckpt_set_disk(cfg, vm, d->disk, d->next, d->format, err, errlen)) < 0)
			goto out;
		ckpt_record_name(vm, d->next, nrec, sizeof(nrec));
		frozen[i].disk = strdup(d->disk);
		frozen[i].file = strdup(d->cur_rec);
		frozen[i].owned = ckpt_owned_current(vm, &t, d->cur);
		cur[i].disk = strdup(d->disk);
		cur[i].file = strdup(nrec);
		cur[i].owned = true;
		if (!frozen[i].disk || !frozen[i].file || !cur[i].disk || !cur[i].file) {
			r = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	/* Now's images of disks the checkpoint does not freeze (a disk an apply took out of the
	 * settings) stay listed: borrowed from t, not freed below. */
	for (unsigned k = 0; k < t.ncurrent; k++) {
		bool frozen_now = false;
		for (unsigned i = 0; i < plan->n; i++)
			frozen_now = frozen_now || strcmp(plan->d[i].disk, t.current[k].disk) == 0;
		if (!frozen_now)
			cur[ncur++] = t.current[k];
	}
	struct ckpt c = {
	    .label = (char *)plan->label,
	    .created = time(NULL),
	    .has_state = plan->with_state,
	    .nimages = plan->n,
	    .images = frozen,
	};
	snprintf(c.id, sizeof(c.id), "%s", plan->id);
	snprintf(c.parent, sizeof(c.parent), "%s", t.now);
	if ((r = ckpt_tree_add(&t, &c)) < 0 || (r = ckpt_tree_set_current(&t, cur, ncur)) < 0) {
		snprintf(err, errlen, "VM '%s' has too many checkpoints (or out of memory)",
			 vm->name);
		goto out;
	}
	snprintf(t.now, sizeof(t.now), "%s", plan->id);
	/* The settings as they are, the disks naming the images being frozen: kept first, so
	 * that a recorded checkpoint always has them (a crash before the tree is written leaves
	 * an unused copy, which a later checkpoint of the same id would replace). */
	if (plan->running[0]) {
		char why[1024];
		if (!(ran = running_config(plan, orig, why, sizeof(why))))
			ckpt_say(vm,
				 "The settings VM '%s' started with cannot be read (%s): the "
				 "checkpoint keeps its vmconfig as it is now",
				 vm->name, why);
	}
	if ((r = keep_config(ran ? ran : orig, plan->config, err, errlen)) < 0)
		goto out;
	/* The disks switch next: a crash before the tree is written leaves a VM on new images
	 * whose parents are its old ones, and no checkpoint: nothing lost. */
	if ((r = ckpt_save_config(cfg, err, errlen)) < 0) {
		unlink(plan->config);
		goto out;
	}
	if ((r = ckpt_save_tree(vm, &t, err, errlen)) < 0) {
		char err2[256];
		ckpt_save_config(orig, err2, sizeof(err2));
		unlink(plan->config);
	}
out:
	for (unsigned i = 0; i < plan->n && frozen && cur; i++) {
		free(frozen[i].disk);
		free(frozen[i].file);
		free(cur[i].disk);
		free(cur[i].file);
	}
	free(frozen);
	free(cur);
	vmconfig_free(cfg);
	vmconfig_free(orig);
	vmconfig_free(ran);
	ckpt_tree_free(&t);
	return r;
}

int ckpt_create(const struct ckpt_vm *vm, const char *label, char id_out[CKPT_ID_LEN + 1],
		char *err, size_t errlen)
{
	struct ckpt_plan plan;
	char saved[PATH_MAX], fmt[16];
	int r = ckpt_plan_create(vm, label, &plan, err, errlen);

	if (r < 0)
		return r;
	unsigned made = 0;
	for (; made < plan.n; made++) {
		struct ckpt_plan_disk *d = &plan.d[made];
		if ((r = ckpt_image_format(d->cur, fmt, err, errlen)) < 0 ||
		    (r = ckpt_make_child(d->next, d->format, d->cur, fmt, err, errlen)) < 0)
			break;
	}
	if (r == 0 && ckpt_saved_path(vm, saved, sizeof(saved)) == 0 && access(saved, F_OK) == 0) {
		/* A saved VM: its state goes with the checkpoint. */
		plan.with_state = true;
		r = ckpt_copy_file(saved, plan.state, err, errlen);
		if (r < 0)
			plan.with_state = false;
	}
	if (r == 0)
		r = ckpt_plan_record(vm, &plan, err, errlen);
	if (r < 0) {
		/* Only what this call made. */
		for (unsigned i = 0; i < made; i++)
			unlink(plan.d[i].next);
		if (plan.with_state)
			unlink(plan.state);
	} else {
		snprintf(id_out, CKPT_ID_LEN + 1, "%s", plan.id);
		ckpt_say(vm, "Created checkpoint '%s' (%s) of VM '%s'%s", plan.label, plan.id,
			 vm->name, plan.with_state ? " with its saved state" : "");
	}
	ckpt_plan_free(&plan);
	return r;
}
