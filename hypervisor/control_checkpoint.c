/* checkpoint-create: the running VM's state saved and a differencing image put on every disk
 * while it stands still, all or nothing (see control_checkpoint.h). */
#include "hypervisor/control_checkpoint.h"

#include "devices/block/block.h"
#include "devices/device.h"
#include "devices/ide/ide.h"
#include "devices/virtio/blk.h"
#include "hypervisor/control.h"
#include "hypervisor/log.h"
#include "hypervisor/worker_ctl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CKPT_DISKS_MAX 64 /* IDE and virtio disks of one VM, and then some */
#define IDE_POSITIONS  4
#define VIRTIO_MAX     64

struct disk_req {
	const char *file, *next, *format; /* borrowed from the request's arguments */
	struct block_dev *bd;
};

struct ckpt_req {
	struct disk_req d[CKPT_DISKS_MAX];
	unsigned n;
	const char *state;
	const char *cls; /* the error's class */
	char err[768];
};

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* The disk device whose top image is file: IDE hard disks, then virtio disks. */
static struct block_dev *find_disk(struct machine *m, const char *file)
{
	void *ide = machine_device(m, "ide");
	char id[16];

	for (unsigned pos = 0; ide && pos < IDE_POSITIONS; pos++) {
		struct block_dev *bd = ide_disk_block_dev(ide, pos);
		if (bd && same_file(block_path(bd), file))
			return bd;
	}
	for (unsigned i = 0; i < VIRTIO_MAX; i++) {
		snprintf(id, sizeof(id), "vd%u", i);
		void *vd = machine_device(m, id);
		if (!vd)
			break;
		struct block_dev *bd = virtio_blk_block_dev(vd);
		if (bd && same_file(block_path(bd), file))
			return bd;
	}
	return NULL;
}

/* On the event loop's thread, the VM stopped: state first (the largest write: a full disk
 * fails here, before any disk changed), then the disks; undone on any failure. */
static int take(struct worker *w, void *opaque)
{
	struct ckpt_req *q = opaque;
	struct machine *m = worker_machine(w);
	unsigned done = 0;
	int r;

	for (unsigned i = 0; i < q->n; i++) {
		q->d[i].bd = find_disk(m, q->d[i].file);
		if (!q->d[i].bd) {
			q->cls = CONTROL_E_INVALID;
			snprintf(q->err, sizeof(q->err), "no disk of the VM uses %s", q->d[i].file);
			return -ENOENT;
		}
		for (unsigned j = 0; j < i; j++)
			if (q->d[j].bd == q->d[i].bd) {
				q->cls = CONTROL_E_INVALID;
				snprintf(q->err, sizeof(q->err), "disk %s is listed twice",
					 q->d[i].file);
				return -EINVAL;
			}
	}
	r = worker_write_state(w, q->state, q->err, sizeof(q->err));
	if (r < 0)
		return r;
	for (; done < q->n; done++) {
		struct disk_req *d = &q->d[done];
		r = block_snapshot(d->bd, d->next, d->format, q->err, sizeof(q->err));
		if (r < 0)
			break;
	}
	if (r == 0)
		return 0;
	while (done-- > 0) {
		char err[512];
		if (block_unsnapshot(q->d[done].bd, err, sizeof(err)) < 0)
			log_error(
			    "checkpoint: could not go back to %s after a failed checkpoint: %s",
			    q->d[done].file, err);
	}
	unlink(q->state);
	return r;
}

static int absolute(json_t *v, const char **out)
{
	const char *s = json_string_value(v);

	if (!s || s[0] != '/' || strlen(s) >= PATH_MAX || json_string_length(v) != strlen(s))
		return -EINVAL;
	*out = s;
	return 0;
}

static int checkpoint_create(struct control_client *c, json_t *args, struct control_reply *reply,
			     void *opaque)
{
	struct worker *w = opaque;
	json_t *disks = json_object_get(args, "disks"), *id = json_object_get(args, "id"), *e;
	struct ckpt_req *q;
	size_t i;
	int r;

	if (!json_is_array(disks) || json_array_size(disks) == 0 ||
	    json_array_size(disks) > CKPT_DISKS_MAX)
		return control_fail(c, CONTROL_E_INVALID,
				    "\"disks\" must list 1 to %d disks ({\"file\", \"new\"})",
				    CKPT_DISKS_MAX);
	if (id && !json_is_string(id))
		return control_fail(c, CONTROL_E_INVALID, "\"id\" must be a string");
	q = calloc(1, sizeof(*q));
	if (!q)
		return control_fail(c, CONTROL_E_FAILED, "out of memory");
	if (absolute(json_object_get(args, "state"), &q->state) < 0) {
		r = control_fail(c, CONTROL_E_INVALID,
				 "\"state\" must be the absolute path of the state file to write");
		goto out;
	}
	if (access(q->state, F_OK) == 0) {
		r = control_fail(c, CONTROL_E_INVALID, "%s exists already", q->state);
		goto out;
	}
	json_array_foreach(disks, i, e)
	{
		struct disk_req *d = &q->d[i];
		json_t *fmt = json_object_get(e, "format");
		if (absolute(json_object_get(e, "file"), &d->file) < 0 ||
		    absolute(json_object_get(e, "new"), &d->next) < 0 ||
		    (fmt &&
		     (!json_is_string(fmt) || (strcmp(json_string_value(fmt), "vhdx") != 0 &&
					       strcmp(json_string_value(fmt), "qcow2") != 0)))) {
			r = control_fail(c, CONTROL_E_INVALID,
					 "disk %zu: \"file\" and \"new\" must be absolute paths, "
					 "\"format\" vhdx or qcow2",
					 i + 1);
			goto out;
		}
		d->format = fmt ? json_string_value(fmt) : NULL;
		q->n++;
	}
	q->cls = CONTROL_E_FAILED;
	r = worker_with_vm_stopped(w, take, q);
	if (r == -EAGAIN && !q->err[0]) {
		r = control_fail(c, CONTROL_E_UNAVAILABLE, "the VM is not running");
		goto out;
	}
	if (r < 0) {
		r = control_fail(c, q->cls, "%s", q->err[0] ? q->err : strerror(-r));
		goto out;
	}
	json_t *list = json_array();
	for (unsigned j = 0; j < q->n; j++)
		json_array_append_new(
		    list, json_pack("{s:s, s:s}", "file", q->d[j].file, "new", q->d[j].next));
	const char *ids = id ? json_string_value(id) : "";
	reply->ret = json_pack("{s:s, s:s, s:o}", "id", ids, "state", q->state, "disks", list);
	log_info("checkpoint %s: state in %s, %u disk%s on new images", ids, q->state, q->n,
		 q->n == 1 ? "" : "s");
	r = 0;
out:
	free(q);
	return r;
}

void control_checkpoint_register(struct control *ctl, struct worker *w)
{
	control_register(ctl, "checkpoint-create", checkpoint_create, w);
}
