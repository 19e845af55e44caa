/* Edits of the Settings window's hardware tree as data: changes to keys,
 * hardware added and removed, each checked by the vmconfig's own rules and
 * undone whole when they fail, IDE drives kept where they were, and the
 * document saved under the VM's command lock. */
#include "console/hwtree.h"

#include "hypervisor/vmspec.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The document before an edit, to go back to, and where its IDE drives
 * sat. */
struct edit {
	char *snap;
	size_t len;
	char names[VM_IDE_DRIVES][72];
	const char *types[VM_IDE_DRIVES];
	bool placed; /* the positions could be read */
};

static int begin(struct hwtree *t, struct edit *e, char *msg, size_t msglen)
{
	memset(e, 0, sizeof(*e));
	e->snap = vmconfig_format(t->cfg, &e->len);
	if (!e->snap) {
		snprintf(msg, msglen, "out of memory");
		return -ENOMEM;
	}
	e->placed = hwtree_ide_positions(t, e->names, e->types) == 0;
	return 0;
}

static void rollback(struct hwtree *t, struct edit *e)
{
	struct vmconfig_error err;
	struct vmconfig *old = vmconfig_parse(e->snap, e->len, t->path, &err);

	/* The snapshot parsed before; only memory can fail here, and then
	 * the edited document stays (it is not saved without validation). */
	if (old) {
		vmconfig_free(t->cfg);
		t->cfg = old;
	}
	free(e->snap);
	e->snap = NULL;
}

static int pin(struct hwtree *t, const char *type, const char *name, unsigned pos,
	       struct vmconfig_error *err)
{
	char c[2] = {(char)('0' + pos / 2), 0}, l[2] = {(char)('0' + pos % 2), 0};
	const char *nm = name[0] ? name : NULL;
	int r = vmconfig_set(t->cfg, type, nm, "controller", c, err);

	return r ? r : vmconfig_set(t->cfg, type, nm, "location", l, err);
}

/* Drives that were on IDE and moved because others came or went go back
 * where they were; drives new on IDE stay where they landed. */
static int keep_positions(struct hwtree *t, struct edit *e, struct vmconfig_error *err)
{
	char names[VM_IDE_DRIVES][72];
	const char *types[VM_IDE_DRIVES];
	int r;

	if (!e->placed || hwtree_ide_positions(t, names, types) < 0)
		return 0; /* vmconfig_validate says what is wrong */
	for (unsigned i = 0; i < VM_IDE_DRIVES; i++) {
		bool was = false;

		if (!types[i])
			continue;
		/* Where its keys put it is where the user wants it. */
		if (vmconfig_get(t->cfg, types[i], names[i][0] ? names[i] : NULL, "controller") &&
		    vmconfig_get(t->cfg, types[i], names[i][0] ? names[i] : NULL, "location"))
			continue;
		for (unsigned j = 0; j < VM_IDE_DRIVES; j++) {
			if (!e->types[j] || strcmp(e->types[j], types[i]) ||
			    strcmp(e->names[j], names[i]))
				continue;
			was = true;
			if (j != i && (r = pin(t, types[i], names[i], j, err)) < 0)
				return r;
		}
		if (!was && (r = pin(t, types[i], names[i], i, err)) < 0)
			return r;
	}
	return 0;
}

/* Validates the edited document: keeps it (and marks the tree dirty), or
 * goes back to the snapshot with the reason in msg. */
static int commit(struct hwtree *t, struct edit *e, int r, struct vmconfig_error *err, char *msg,
		  size_t msglen)
{
	if (!r)
		r = keep_positions(t, e, err);
	if (!r)
		r = vmconfig_validate(t->cfg, err);
	if (r) {
		if (r == -ENOMEM)
			snprintf(msg, msglen, "out of memory");
		else
			snprintf(msg, msglen, "%s", err->message);
		rollback(t, e);
		hwtree_rebuild(t);
		return r;
	}
	free(e->snap);
	t->dirty = true;
	hwtree_rebuild(t);
	return 0;
}

static int set_all(struct hwtree *t, const char *section, const char *name,
		   const struct hw_change *c, unsigned n, struct vmconfig_error *err)
{
	const char *nm = name && name[0] ? name : NULL;
	int r;

	for (unsigned i = 0; i < n; i++) {
		if (c[i].value)
			r = vmconfig_set(t->cfg, section, nm, c[i].key, c[i].value, err);
		else if ((r = vmconfig_unset(t->cfg, section, nm, c[i].key)) == -ENOENT)
			r = 0;
		if (r)
			return r;
	}
	return 0;
}

static int check_changes(struct hwtree *t, const char *section, const struct hw_change *c,
			 unsigned n, char *msg, size_t msglen)
{
	for (unsigned i = 0; i < n; i++)
		if (!hwtree_may_change(t->mode, section, c[i].key, msg, msglen))
			return -EPERM;
	for (unsigned i = 0; i < n; i++) {
		int r;

		if (c[i].value &&
		    (r = vmconfig_check_value(section, c[i].key, c[i].value, msg, msglen)) < 0)
			return r == -ENOENT ? -EINVAL : r;
	}
	return 0;
}

int hwtree_apply(struct hwtree *t, const char *section, const char *name, const struct hw_change *c,
		 unsigned n, char *msg, size_t msglen)
{
	struct vmconfig_error err = {0};
	struct edit e;
	int r = check_changes(t, section, c, n, msg, msglen);

	if (r)
		return r;
	if ((r = begin(t, &e, msg, msglen)) < 0)
		return r;
	r = set_all(t, section, name, c, n, &err);
	return commit(t, &e, r, &err, msg, msglen);
}

/* The first "PREFIXn" (n from 1) that no section of type has. */
static void new_name(struct hwtree *t, const char *type, const char *prefix, char *out,
		     size_t outlen)
{
	for (unsigned k = 1;; k++) {
		snprintf(out, outlen, "%s%u", prefix, k);
		if (!vmconfig_line(t->cfg, type, out, NULL))
			return;
	}
}

/* Adds a section of type with changes c (a position key pair added for an
 * IDE drive when one is free). */
static int add_section(struct hwtree *t, const char *type, const char *prefix, bool ide,
		       const struct hw_change *c, unsigned n, char *out, size_t outlen, char *msg,
		       size_t msglen)
{
	struct vmconfig_error err = {0};
	char name[72];
	struct edit e;
	int r, pos;

	if (!hwtree_may_change(t->mode, type, NULL, msg, msglen))
		return -EPERM;
	if ((r = check_changes(t, type, c, n, msg, msglen)))
		return r;
	if ((r = begin(t, &e, msg, msglen)) < 0)
		return r;
	new_name(t, type, prefix, name, sizeof(name));
	/* Without a free position the drive stays unplaced: the vmconfig's
	 * own message says that IDE is full. */
	pos = ide ? hwtree_free_ide(t) : -1;
	r = set_all(t, type, name, c, n, &err);
	if (!r && ide && pos >= 0)
		r = pin(t, type, name, (unsigned)pos, &err);
	if ((r = commit(t, &e, r, &err, msg, msglen)) == 0 && out)
		snprintf(out, outlen, "%s", name);
	return r;
}

int hwtree_add_disk(struct hwtree *t, const char *bus, const char *file, char *out, size_t outlen,
		    char *msg, size_t msglen)
{
	bool ide = strcmp(bus, "ide") == 0;
	struct hw_change c[] = {{"file", file}, {"bus", bus}};

	return add_section(t, "disk", "disk", ide, c, ide ? 1 : 2, out, outlen, msg, msglen);
}

int hwtree_add_dvd(struct hwtree *t, const char *file, char *out, size_t outlen, char *msg,
		   size_t msglen)
{
	/* file = "" for an empty drive: the section then always exists, and a
	 * fifth IDE drive gets the vmconfig's message. */
	struct hw_change c[] = {{"file", file ? file : ""}};

	return add_section(t, "dvd", "dvd", true, c, 1, out, outlen, msg, msglen);
}

int hwtree_add_nic(struct hwtree *t, const char *sw, const char *model, char *out, size_t outlen,
		   char *msg, size_t msglen)
{
	struct hw_change c[] = {{"switch", sw}, {"model", model}};

	return add_section(t, "nic", "net", false, c, 2, out, outlen, msg, msglen);
}

int hwtree_remove(struct hwtree *t, const struct hw_item *it, char *msg, size_t msglen)
{
	struct vmconfig_error err = {0};
	struct edit e;
	int r;

	if (!hwtree_item_removable(t, it, msg, msglen))
		return -EPERM;
	if ((r = begin(t, &e, msg, msglen)) < 0)
		return r;
	r = vmconfig_remove_section(t->cfg, it->section, it->name[0] ? it->name : NULL);
	if (r == -ENOENT)
		snprintf(err.message, sizeof(err.message), "%s is not in the vmconfig any more",
			 it->label);
	return commit(t, &e, r, &err, msg, msglen);
}

void hwtree_config_path(const struct hwtree *t, const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(t->path, '/');
	size_t dir = slash ? (size_t)(slash - t->path) + 1 : 0;

	if (dir && strncmp(path, t->path, dir) == 0 && path[dir] && !strchr(path + dir, '/'))
		snprintf(out, outlen, "%s", path + dir);
	else
		snprintf(out, outlen, "%s", path);
}

int hwtree_save(struct hwtree *t, char *msg, size_t msglen)
{
	struct vmconfig_error err = {0};
	char lockerr[512];
	char *now, *text;
	int fd, r;

	if (vmconfig_validate(t->cfg, &err) < 0) {
		snprintf(msg, msglen, "%s", err.message);
		return -EINVAL;
	}
	if ((r = vmstore_lock(t->vm, &fd, lockerr, sizeof(lockerr))) < 0) {
		snprintf(msg, msglen, "%s", lockerr);
		return r;
	}
	now = hwtree_read_file(t->path, &r);
	if (!now) {
		snprintf(msg, msglen, "%s: %s", t->path, strerror(-r));
		goto out;
	}
	if (strcmp(now, t->base) != 0) {
		snprintf(msg, msglen,
			 "%s was changed by someone else while Settings was open; close Settings "
			 "(Cancel) and open it again",
			 t->path);
		r = -ESTALE;
		goto out;
	}
	if ((r = vmconfig_save(t->cfg, NULL)) < 0) {
		snprintf(msg, msglen, "%s: %s", t->path, strerror(-r));
		goto out;
	}
	text = vmconfig_format(t->cfg, NULL);
	if (text) {
		free(t->base);
		t->base = text;
	}
	t->dirty = false;
out:
	free(now);
	vmstore_unlock(fd);
	return r;
}

int hwtree_sync_key(struct hwtree *t, const char *section, const char *name, const char *key,
		    const char *value, char *msg, size_t msglen)
{
	struct vmconfig_error err = {0};
	struct hw_change c = {key, value};
	char *now;
	int r;

	now = hwtree_read_file(t->path, &r);
	if (!now) {
		snprintf(msg, msglen, "%s: %s", t->path, strerror(-r));
		return r;
	}
	free(t->base);
	t->base = now;
	r = set_all(t, section, name, &c, 1, &err);
	if (r)
		snprintf(msg, msglen, "%s", r == -ENOMEM ? "out of memory" : err.message);
	hwtree_rebuild(t);
	return r;
}
