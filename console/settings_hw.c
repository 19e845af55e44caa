/* Hardware that comes and goes in the Settings window (Add Hardware,
 * Remove), the changes a running VM takes at once (DVD media through `osio
 * dvd` or the control socket, an adapter's switch through nic-connect and
 * nic-disconnect), and the DVD dialog of the VM's actions. */
#include "console/settings.h"

#include "console/console.h"
#include "console/dialogs.h"
#include "console/widgets.h"
#include "devices/net/switchdef.h"
#include "hypervisor/ctlclient.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIVE_TIMEOUT_MS 5000

struct switch_list {
	char (*names)[64];
	unsigned n, max;
};

static int one_switch(const struct net_switch_cfg *cfg, void *opaque)
{
	struct switch_list *l = opaque;

	if (l->n < l->max)
		snprintf(l->names[l->n++], 64, "%s", cfg->name);
	return 0;
}

unsigned settings_switches(char (*names)[64], unsigned max)
{
	struct switch_list l = {names, 0, max};
	char err[512];

	/* A damaged definition ends the list early; the rest still shows. */
	switchdef_foreach(one_switch, &l, err, sizeof(err));
	if (l.n == 0 && max)
		snprintf(names[l.n++], 64, "default");
	return l.n;
}

static void select_section(struct settings *s, const char *section, const char *name)
{
	for (unsigned i = 0; i < s->t.nitems; i++)
		if (strcmp(s->t.items[i].section, section) == 0 &&
		    strcmp(s->t.items[i].name, name) == 0)
			s->sel = (int)i;
}

static void vm_dir(const struct settings *s, char *out, size_t outlen)
{
	const char *slash = strrchr(s->t.path, '/');

	snprintf(out, outlen, "%.*s", slash ? (int)(slash - s->t.path) : 1,
		 slash ? s->t.path : ".");
}

static void add_disk(struct settings *s, const char *bus)
{
	static const char *const how[] = {"Create a new virtual hard disk...",
					  "Use an existing virtual hard disk..."};
	char dir[PATH_MAX], file[PATH_MAX], rel[PATH_MAX], name[72], msg[600];
	int k = dlg_choose(s->con, "Add Hard Drive", "Where does the disk come from?", how, 2, 0);
	bool ok;

	if (k < 0)
		return;
	vm_dir(s, dir, sizeof(dir));
	if (k == 0)
		ok = wizard_new_disk(s->con, dir, file, sizeof(file));
	else
		ok = dlg_file(s->con, "Hard Drive", dir, "*.vhdx,*.vhd,*.qcow2,*.img,*.raw", false,
			      false, file, sizeof(file));
	if (!ok)
		return;
	hwtree_config_path(&s->t, file, rel, sizeof(rel));
	if (hwtree_add_disk(&s->t, bus, rel, name, sizeof(name), msg, sizeof(msg)) < 0) {
		dlg_message(s->con, "Add Hard Drive", "The disk was not added: %s", msg);
		return;
	}
	select_section(s, "disk", name);
}

static void add_dvd(struct settings *s)
{
	char name[72], msg[600];

	if (hwtree_add_dvd(&s->t, "", name, sizeof(name), msg, sizeof(msg)) < 0) {
		dlg_message(s->con, "Add DVD Drive", "The DVD drive was not added: %s", msg);
		return;
	}
	select_section(s, "dvd", name);
	/* At once the question of what is in it. */
	settings_edit(s, &s->t.items[s->sel]);
	select_section(s, "dvd", name);
}

static void add_nic(struct settings *s)
{
	char(*names)[64] = calloc(SETTINGS_SWITCHES_MAX, sizeof(*names));
	const char *items[SETTINGS_SWITCHES_MAX];
	char name[72], msg[600];
	unsigned n;
	int k;

	if (!names)
		return;
	n = settings_switches(names, SETTINGS_SWITCHES_MAX);
	for (unsigned i = 0; i < n; i++)
		items[i] = names[i];
	k = dlg_choose(s->con, "Add Network Adapter", "Which virtual switch is it plugged into?",
		       items, n, 0);
	if (k >= 0) {
		if (hwtree_add_nic(&s->t, names[k], "e1000", name, sizeof(name), msg, sizeof(msg)) <
		    0)
			dlg_message(s->con, "Add Network Adapter", "The adapter was not added: %s",
				    msg);
		else
			select_section(s, "nic", name);
	}
	free(names);
}

void settings_add(struct settings *s)
{
	static const char *const kinds[] = {"Hard Drive (IDE)", "Hard Drive (virtio)", "DVD Drive",
					    "Network Adapter"};
	int k;

	if (s->t.mode != HW_MODE_OFF) {
		snprintf(s->msg, sizeof(s->msg), "%s.", HW_LOCKED_MSG);
		return;
	}
	k = dlg_choose(s->con, "Add Hardware", "Which device?", kinds, 4, 0);
	if (k == 0 || k == 1)
		add_disk(s, k == 0 ? "ide" : "virtio");
	else if (k == 2)
		add_dvd(s);
	else if (k == 3)
		add_nic(s);
}

void settings_remove(struct settings *s, const struct hw_item *it)
{
	struct hw_item copy = *it;
	char msg[600];

	if (!hwtree_item_removable(&s->t, &copy, s->msg, sizeof(s->msg)))
		return;
	if (!dlg_confirm(s->con, "Remove", "Remove", "Remove %s%s%s%s from '%s'?%s", copy.label,
			 copy.name[0] ? " \"" : "", copy.name, copy.name[0] ? "\"" : "", s->t.vm,
			 copy.kind == HW_DISK ? " Its image file stays where it is." : ""))
		return;
	if (hwtree_remove(&s->t, &copy, msg, sizeof(msg)) < 0)
		dlg_message(s->con, "Remove", "%s was not removed: %s", copy.label, msg);
}

/* The first line of a command's output, for an editor's error line. */
static void first_line(const char *out, char *why, size_t whylen)
{
	size_t n = strcspn(out, "\n");

	snprintf(why, whylen, "%.*s", (int)n, n ? out : "the command failed");
}

static bool first_dvd(const struct settings *s, const struct hw_item *it)
{
	for (unsigned i = 0; i < s->t.nitems; i++)
		if (s->t.items[i].kind == HW_DVD && s->t.items[i].ide >= 0 &&
		    s->t.items[i].ide < it->ide)
			return false;
	return true;
}

/* Applies a change the running VM took to the document and saves it. */
static int record(struct settings *s, const struct hw_item *it, const struct hw_change *c,
		  unsigned n, char *why, size_t whylen)
{
	int r = hwtree_apply(&s->t, it->section, it->name, c, n, why, whylen);

	if (!r)
		r = hwtree_save(&s->t, why, whylen);
	con_reload_details(s->con);
	return r;
}

int settings_live_dvd(struct settings *s, const struct hw_item *it, const char *file, char *why,
		      size_t whylen)
{
	char abs[PATH_MAX] = "", err[512], out[4096], drive[32];
	struct hw_item copy = *it; /* the tree is rebuilt on the way */
	int r;

	it = &copy;
	if (file[0] && !realpath(file, abs)) {
		r = -errno;
		snprintf(why, whylen, "%s: %s; choose an ISO image that exists", file,
			 strerror(errno));
		return r;
	}
	if (first_dvd(s, it)) {
		/* osio dvd writes the vmconfig itself. */
		const char *ins[] = {"dvd", s->t.vm, "insert", abs, NULL};
		const char *ej[] = {"dvd", s->t.vm, "eject", NULL};

		r = con_run_osio(s->con, "DVD Drive", abs[0] ? ins : ej, out, sizeof(out));
		if (r != 0) {
			first_line(out, why, whylen);
			return r < 0 ? r : -EIO;
		}
		r = hwtree_sync_key(&s->t, "dvd", it->name, "file", abs, why, whylen);
		con_reload_details(s->con);
		return r;
	}
	snprintf(drive, sizeof(drive), "ide%d:%d", it->ide / 2, it->ide % 2);
	json_t *args = abs[0] ? json_pack("{s:s,s:s}", "path", abs, "drive", drive)
			      : json_pack("{s:s}", "drive", drive);
	/* Open, as osio dvd passes it: the worker may run as another user. */
	int fd = abs[0] ? open(abs, O_RDONLY | O_CLOEXEC | O_NOCTTY) : -1;
	if (abs[0] && fd < 0) {
		r = -errno;
		json_decref(args);
		snprintf(why, whylen, "%s: %s; choose an ISO image you may read", abs,
			 strerror(errno));
		return r;
	}
	r = ctl_query_fd(s->t.vm, abs[0] ? "dvd-insert" : "dvd-eject", args, fd, NULL,
			 LIVE_TIMEOUT_MS, err, sizeof(err));
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		snprintf(why, whylen, "%s", err);
		return r;
	}
	struct hw_change c = {"file", abs};
	return record(s, it, &c, 1, why, whylen);
}

int settings_live_nic(struct settings *s, const struct hw_item *it, const char *sw, char *why,
		      size_t whylen)
{
	char id[72], err[512];
	struct hw_item copy = *it;
	int r;

	it = &copy;
	hwtree_nic_id(&s->t, it, id, sizeof(id));
	json_t *args =
	    sw ? json_pack("{s:s,s:s}", "nic", id, "switch", sw) : json_pack("{s:s}", "nic", id);
	r = ctl_query(s->t.vm, sw ? "nic-connect" : "nic-disconnect", args, NULL, LIVE_TIMEOUT_MS,
		      err, sizeof(err));
	if (r < 0) {
		snprintf(why, whylen, "%s", err);
		return r;
	}
	struct hw_change plug[] = {{"switch", sw}, {"connected", NULL}};
	struct hw_change unplug = {"connected", "no"};
	return sw ? record(s, it, plug, hwtree_get(&s->t, it, "connected") ? 2 : 1, why, whylen)
		  : record(s, it, &unplug, 1, why, whylen);
}

/* --- the DVD dialog ------------------------------------------------------------ */

static void dvd_change(struct settings *s, const struct hw_item *it, const char *file)
{
	char why[600], rel[PATH_MAX];
	struct hw_change c = {"file", rel};
	struct hw_item copy = *it;
	int r;

	it = &copy;
	if (s->t.mode == HW_MODE_LIVE) {
		r = settings_live_dvd(s, it, file, why, sizeof(why));
	} else {
		hwtree_config_path(&s->t, file, rel, sizeof(rel));
		r = record(s, it, &c, 1, why, sizeof(why));
	}
	if (r < 0 && r != -EIO) /* -EIO: osio dvd showed its message */
		dlg_message(s->con, "DVD Drive", "%s", why);
}

void settings_dvd(struct console *con, const char *name)
{
	static const char *const acts[] = {"Insert Disc...", "Eject"};
	const char *labels[4];
	char text[4][200], msg[600], dir[PATH_MAX], file[PATH_MAX];
	const struct hw_item *dvds[4];
	struct settings *s;
	unsigned n = 0;
	int k = 0, a;

	if (!name || !name[0] || !(s = calloc(1, sizeof(*s))))
		return;
	s->con = con;
	if (hwtree_open(&s->t, name, settings_mode(con, name), msg, sizeof(msg)) < 0) {
		dlg_message(con, "DVD Drive", "%s", msg);
		free(s);
		return;
	}
	for (unsigned i = 0; i < s->t.nitems && n < 4; i++) {
		const struct hw_item *it = &s->t.items[i];

		if (it->kind != HW_DVD)
			continue;
		snprintf(text[n], sizeof(text[n]), "IDE %d:%d  %.160s", it->ide / 2, it->ide % 2,
			 it->value);
		labels[n] = text[n];
		dvds[n++] = it;
	}
	if (!n) {
		dlg_message(con, "DVD Drive",
			    "'%s' has no DVD drive; Settings adds one (the VM off).", name);
		goto out;
	}
	if (s->t.mode == HW_MODE_LOCKED) {
		dlg_message(con, "DVD Drive", "%s.", HW_LOCKED_MSG);
		goto out;
	}
	if (n > 1 && (k = dlg_choose(con, "DVD Drive", "Which drive?", labels, n, 0)) < 0)
		goto out;
	a = dlg_choose(con, "DVD Drive", text[k], acts, 2, 0);
	vm_dir(s, dir, sizeof(dir));
	if (a == 0 && dlg_file(con, "Insert Disc", dir, "*.iso", false, false, file, sizeof(file)))
		dvd_change(s, dvds[k], file);
	else if (a == 1)
		dvd_change(s, dvds[k], "");
out:
	hwtree_close(&s->t);
	free(s);
	con_dirty(con);
}
