/* The Settings window's editors, one dlg_form per kind of item: memory,
 * processors, firmware and boot order, hard drives, DVD drives, network
 * adapters, COM ports, the display, and the Management items. Values are
 * checked as the vmconfig checks them, and the error stays in the editor;
 * on a running VM only the DVD media and an adapter's switch can change,
 * and they change at once. */
#include "console/settings.h"

#include "console/console.h"
#include "console/dialogs.h"
#include "console/widgets.h"
#include "vmconfig/schema.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FIELDS 8

struct ed;
typedef int (*ed_apply_fn)(struct ed *e, int button, char *why, size_t whylen, int *bad);

/* One editor's state: the item, the fields' buffers, the apply step. */
struct ed {
	struct settings *s;
	struct hw_item it;
	struct field f[MAX_FIELDS];
	unsigned nf;
	char file[PATH_MAX];
	char text[3][512];
	int choice[4];
	bool check;
	char sw[SETTINGS_SWITCHES_MAX + 1][64];
	const char *swi[SETTINGS_SWITCHES_MAX + 2];
	unsigned nsw;
	ed_apply_fn apply;
	bool changed;
};

/* The key a field holds, for check_key. */
struct keyref {
	const char *section, *key;
	bool empty_ok; /* "" means the key is removed */
};

static int check_key(const char *value, char *why, size_t whylen, void *opaque)
{
	const struct keyref *k = opaque;

	if (k->empty_ok && !value[0])
		return 0;
	return vmconfig_check_value(k->section, k->key, value, why, whylen) ? 1 : 0;
}

static const struct keyref kr_memory = {"vm", "memory", false};
static const struct keyref kr_cpus = {"vm", "cpus", false};
static const struct keyref kr_mac = {"nic", "mac", true};
static const struct keyref kr_forward = {"nic", "forward", true};
static const struct keyref kr_vnc = {"display", "vnc", false};
static const struct keyref kr_keymap = {"display", "keymap", false};
static const struct keyref kr_user = {"vm", "worker_user", true};
static const struct keyref kr_order = {"vm", "autostart_order", false};
static const struct keyref kr_delay = {"vm", "autostart_delay", false};
static const struct keyref kr_timeout = {"vm", "stop_timeout", false};

static const char *const *choices_of(const char *section, const char *key, unsigned *n)
{
	const struct vmconfig_section_info *s = vmconfig_schema_section(section);
	const struct vmconfig_key_info *k = s ? vmconfig_schema_key(s, key) : NULL;

	*n = 0;
	if (!k || !k->choices)
		return NULL;
	while (k->choices[*n])
		(*n)++;
	return k->choices;
}

static int choice_index(const char *const *items, unsigned n, const char *value)
{
	for (unsigned i = 0; i < n; i++)
		if (strcasecmp(items[i], value) == 0)
			return (int)i;
	return 0;
}

static struct field *add_field(struct ed *e, enum field_type type, const char *label)
{
	struct field *f = &e->f[e->nf++];

	memset(f, 0, sizeof(*f));
	f->type = type;
	f->label = label;
	return f;
}

static struct field *text_field(struct ed *e, const char *label, char *buf, size_t size,
				const struct keyref *k, const char *help)
{
	struct field *f = add_field(e, FIELD_TEXT, label);

	f->buf = buf;
	f->size = size;
	f->check_fn = k ? check_key : NULL;
	f->check_opaque = (void *)k;
	f->help = help;
	return f;
}

/* A choice among n items, starting at item value. */
static struct field *choice_field(struct ed *e, const char *label, const char *const *items,
				  unsigned n, int *choice, int value)
{
	struct field *f = add_field(e, FIELD_CHOICE, label);

	f->items = items;
	f->nitems = n;
	f->choice = choice;
	*choice = value;
	return f;
}

/* A file's path typed or browsed for (patterns as dlg_file's). */
static struct field *file_field(struct ed *e, const char *label, char *buf, size_t size,
				const char *patterns, const char *help)
{
	struct field *f = add_field(e, FIELD_FILE, label);

	f->buf = buf;
	f->size = size;
	f->patterns = patterns;
	f->help = help;
	return f;
}

/* A choice among a key's values in the schema, starting at its value now. */
static struct field *enum_field(struct ed *e, const char *label, const char *key, int *choice)
{
	struct field *f = add_field(e, FIELD_CHOICE, label);

	f->items = choices_of(e->it.section, key, &f->nitems);
	f->choice = choice;
	*choice = choice_index(f->items, f->nitems,
			       hwtree_value(&e->s->t, e->it.section, e->it.name, key));
	return f;
}

/* The changes an editor makes: only keys whose value differs from what
 * the file says (or its default), so that untouched keys stay unwritten. */
struct chg {
	struct hw_change c[MAX_FIELDS + 2];
	unsigned n;
};

static void chg(struct ed *e, struct chg *ch, const char *key, const char *value)
{
	const char *set = hwtree_get(&e->s->t, &e->it, key), *cur;

	if (!value) {
		if (set)
			ch->c[ch->n++] = (struct hw_change){key, NULL};
		return;
	}
	cur = set ? set : hwtree_value(&e->s->t, e->it.section, e->it.name, key);
	if (strcmp(cur, value) != 0)
		ch->c[ch->n++] = (struct hw_change){key, value};
}

static int commit(struct ed *e, struct chg *ch, char *why, size_t whylen)
{
	if (!ch->n)
		return 0;
	if (hwtree_apply(&e->s->t, e->it.section, e->it.name, ch->c, ch->n, why, whylen) < 0)
		return 1;
	e->changed = true;
	return 0;
}

static int validate(struct form *f, int button, char *why, size_t whylen, int *bad, void *opaque)
{
	struct ed *e = opaque;

	(void)f;
	return e->apply(e, button, why, whylen, bad);
}

/* Runs the form until it closes; returns the button. */
static int run_form(struct ed *e, const char *title, const char *text, const char *const *btns,
		    unsigned nb, void (*changed)(struct form *, int, void *))
{
	struct form f = {
	    .title = title,
	    .text = text,
	    .fields = e->f,
	    .nfields = e->nf,
	    .buttons = btns,
	    .nbuttons = nb,
	    .default_button = 0,
	    .cancel_button = (int)nb - 1,
	    .validate = validate,
	    .changed = changed,
	    .opaque = e,
	    .width = 72,
	};

	return dlg_form(e->s->con, &f);
}

static const char *const ok_cancel[] = {"OK", "Cancel"};

static const char *live_text(const struct ed *e, const char *what)
{
	return e->s->t.mode == HW_MODE_LIVE ? what : NULL;
}

/* --- memory, processors, management -------------------------------------- */

static int apply_memory(struct ed *e, int button, char *why, size_t whylen, int *bad)
{
	struct chg ch = {0};

	chg(e, &ch, "memory", e->text[0]);
	chg(e, &ch, "hugepages", e->check ? "yes" : "no");
	return commit(e, &ch, why, whylen);
}

static void edit_memory(struct ed *e)
{
	struct field *f;

	snprintf(e->text[0], sizeof(e->text[0]), "%s",
		 hwtree_value(&e->s->t, "vm", NULL, "memory"));
	text_field(e, "Startup RAM:", e->text[0], sizeof(e->text[0]), &kr_memory,
		   "A size with a unit: 512M, 2G, 1.5G");
	f = add_field(e, FIELD_CHECK, "Back the RAM with huge pages");
	f->check = &e->check;
	vmconfig_parse_bool(hwtree_value(&e->s->t, "vm", NULL, "hugepages"), &e->check, NULL, 0);
	e->apply = apply_memory;
	run_form(e, "Memory", "The RAM the VM starts with.", ok_cancel, 2, NULL);
}

static int apply_cpus(struct ed *e, int button, char *why, size_t whylen, int *bad)
{
	struct chg ch = {0};

	chg(e, &ch, "cpus", e->text[0]);
	return commit(e, &ch, why, whylen);
}

static void edit_processor(struct ed *e)
{
	snprintf(e->text[0], sizeof(e->text[0]), "%s", hwtree_value(&e->s->t, "vm", NULL, "cpus"));
	text_field(e, "Virtual processors:", e->text[0], sizeof(e->text[0]), &kr_cpus,
		   "How many processors the guest sees (1 to 1024)");
	e->apply = apply_cpus;
	run_form(e, "Processor", NULL, ok_cancel, 2, NULL);
}

static int apply_user(struct ed *e, int button, char *why, size_t whylen, int *bad)
{
	struct chg ch = {0};

	chg(e, &ch, "worker_user", e->text[0][0] ? e->text[0] : NULL);
	return commit(e, &ch, why, whylen);
}

static void edit_user(struct ed *e)
{
	const char *v = hwtree_get(&e->s->t, &e->it, "worker_user");

	snprintf(e->text[0], sizeof(e->text[0]), "%s", v ? v : "");
	text_field(e, "Worker user:", e->text[0], sizeof(e->text[0]), &kr_user,
		   "Empty: osio when that user exists; root: stay root");
	e->apply = apply_user;
	run_form(e, "Worker User", "Started by root, the VM's worker process becomes this user.",
		 ok_cancel, 2, NULL);
}

static int apply_autostart(struct ed *e, int button, char *why, size_t whylen, int *bad)
{
	struct chg ch = {0};

	chg(e, &ch, "autostart", e->check ? "yes" : "no");
	chg(e, &ch, "autostart_order", e->text[0]);
	chg(e, &ch, "autostart_delay", e->text[1]);
	return commit(e, &ch, why, whylen);
}

static void edit_autostart(struct ed *e)
{
	struct field *f = add_field(e, FIELD_CHECK, "Start this VM when the host starts");

	f->check = &e->check;
	vmconfig_parse_bool(hwtree_value(&e->s->t, "vm", NULL, "autostart"), &e->check, NULL, 0);
	snprintf(e->text[0], sizeof(e->text[0]), "%s",
		 hwtree_value(&e->s->t, "vm", NULL, "autostart_order"));
	text_field(e, "Order:", e->text[0], sizeof(e->text[0]), &kr_order,
		   "0 to 999: lower numbers start first, equal ones by name");
	snprintf(e->text[1], sizeof(e->text[1]), "%s",
		 hwtree_value(&e->s->t, "vm", NULL, "autostart_delay"));
	text_field(e, "Delay (s):", e->text[1], sizeof(e->text[1]), &kr_delay,
		   "Seconds to wait before starting this VM (0 to 3600)");
	e->apply = apply_autostart;
	run_form(e, "Automatic Start Action",
		 "What osio.service does with this VM when the host boots (osio autostart).",
		 ok_cancel, 2, NULL);
}

static int apply_autostop(struct ed *e, int button, char *why, size_t whylen, int *bad)
{
	struct chg ch = {0};

	chg(e, &ch, "stop_action", e->f[0].items[e->choice[0]]);
	chg(e, &ch, "stop_timeout", e->text[0]);
	return commit(e, &ch, why, whylen);
}

static void edit_autostop(struct ed *e)
{
	enum_field(e, "When the host shuts down:", "stop_action", &e->choice[0]);
	snprintf(e->text[0], sizeof(e->text[0]), "%s",
		 hwtree_value(&e->s->t, "vm", NULL, "stop_timeout"));
	text_field(e, "Shut down timeout (s):", e->text[0], sizeof(e->text[0]), &kr_timeout,
		   "How long shutdown waits for the guest before saving it (1 to 3600)");
	e->apply = apply_autostop;
	run_form(e, "Automatic Stop Action",
		 "shutdown: the ACPI power button, then save after the timeout; save; off: "
		 "power off at once (osio autostop).",
		 ok_cancel, 2, NULL);
}

static int apply_enums(struct ed *e, int button, char *why, size_t whylen, int *bad)
{
	struct chg ch = {0};

	for (unsigned i = 0; i < e->nf; i++)
		chg(e, &ch, e->text[i], e->f[i].items[e->choice[i]]);
	return commit(e, &ch, why, whylen);
}

/* A form of choices, one per key of keys (labels beside them). */
static void edit_enums(struct ed *e, const char *title, const char *text, const char *const *keys,
		       const char *const *labels, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		snprintf(e->text[i], sizeof(e->text[i]), "%s", keys[i]);
		enum_field(e, labels[i], keys[i], &e->choice[i]);
	}
	e->apply = apply_enums;
	run_form(e, title, text, ok_cancel, 2, NULL);
}

/* --- firmware -------------------------------------------------------------- */

static const char *const boot_labels[] = {"DVD drive", "Hard drive", "Network", "(none)"};
static const char *const boot_values[] = {"dvd", "disk", "network"};

static int apply_firmware(struct ed *e, int button, char *why, size_t whylen, int *bad)
{
	struct chg ch = {0};
	char order[64] = "", path[2][PATH_MAX];

	if (hwtree_get(&e->s->t, &e->it, "kernel")) {
		hwtree_config_path(&e->s->t, e->file, path[0], sizeof(path[0]));
		hwtree_config_path(&e->s->t, e->text[0], path[1], sizeof(path[1]));
		chg(e, &ch, "kernel", path[0]);
		chg(e, &ch, "initrd", e->text[0][0] ? path[1] : NULL);
		chg(e, &ch, "append", e->text[1][0] ? e->text[1] : NULL);
		return commit(e, &ch, why, whylen);
	}
	for (unsigned i = 0; i < 3 && e->choice[i] < 3; i++)
		snprintf(order + strlen(order), sizeof(order) - strlen(order), "%s%s",
			 i ? ", " : "", boot_values[e->choice[i]]);
	chg(e, &ch, "order", order);
	return commit(e, &ch, why, whylen);
}

static void edit_firmware(struct ed *e)
{
	static const char *const pos[] = {"Boot first:", "Then:", "Then:"};
	enum boot_device order[VM_BOOT_DEVICES];
	unsigned n = 0;

	e->apply = apply_firmware;
	if (hwtree_get(&e->s->t, &e->it, "kernel")) {
		const char *v = hwtree_get(&e->s->t, &e->it, "initrd");

		snprintf(e->file, sizeof(e->file), "%s", hwtree_get(&e->s->t, &e->it, "kernel"));
		snprintf(e->text[0], sizeof(e->text[0]), "%s", v ? v : "");
		v = hwtree_get(&e->s->t, &e->it, "append");
		snprintf(e->text[1], sizeof(e->text[1]), "%s", v ? v : "");
		file_field(e, "Kernel:", e->file, sizeof(e->file), NULL, NULL);
		file_field(e, "Initrd:", e->text[0], sizeof(e->text[0]), NULL, "Empty: none");
		text_field(e, "Command line:", e->text[1], sizeof(e->text[1]), NULL, NULL);
		run_form(e, "Firmware", "The VM boots this kernel directly, without a BIOS.",
			 ok_cancel, 2, NULL);
		return;
	}
	vmconfig_parse_boot_order(hwtree_value(&e->s->t, "boot", NULL, "order"), order, &n, NULL,
				  0);
	for (unsigned i = 0; i < 3; i++)
		choice_field(e, pos[i], boot_labels, i ? 4 : 3, &e->choice[i],
			     i < n ? (int)order[i] : 3);
	run_form(e, "Firmware",
		 "SeaBIOS tries these devices in this order (a device listed twice is refused).",
		 ok_cancel, 2, NULL);
}

/* --- hard drives and DVD drives -------------------------------------------- */

static const char *const ide_labels[] = {"IDE 0:0 (primary master)", "IDE 0:1 (primary slave)",
					 "IDE 1:0 (secondary master)", "IDE 1:1 (secondary slave)"};
static const char *const bus_labels[] = {"IDE", "virtio"};

enum { DISK_FILE, DISK_BUS, DISK_POS, DISK_RO, DISK_FORMAT };

static void disk_changed(struct form *f, int field, void *opaque)
{
	struct ed *e = opaque;

	e->f[DISK_POS].hidden = e->choice[0] != 0;
}

/* controller and location when the drive is to move (or comes onto IDE). */
static void position_changes(struct ed *e, struct chg *ch, int pos, bool to_ide, char buf[2][2])
{
	if (!to_ide && pos == e->it.ide)
		return;
	buf[0][0] = (char)('0' + pos / 2);
	buf[1][0] = (char)('0' + pos % 2);
	buf[0][1] = buf[1][1] = '\0';
	ch->c[ch->n++] = (struct hw_change){"controller", buf[0]};
	ch->c[ch->n++] = (struct hw_change){"location", buf[1]};
}

static int apply_disk(struct ed *e, int button, char *why, size_t whylen, int *bad)
{
	struct chg ch = {0};
	char path[PATH_MAX], pos[2][2];
	bool ide = e->choice[0] == 0;

	if (button == 1) /* New Disk... */
		return 0;
	if (!e->file[0]) {
		snprintf(why, whylen, "Choose the disk's image file, or make one with New Disk...");
		*bad = DISK_FILE;
		return 1;
	}
	hwtree_config_path(&e->s->t, e->file, path, sizeof(path));
	chg(e, &ch, "file", path);
	chg(e, &ch, "bus", ide ? "ide" : "virtio");
	if (ide) {
		position_changes(e, &ch, e->choice[1], e->it.ide < 0, pos);
	} else {
		chg(e, &ch, "controller", NULL);
		chg(e, &ch, "location", NULL);
	}
	chg(e, &ch, "readonly", e->check ? "yes" : "no");
	chg(e, &ch, "format", e->f[DISK_FORMAT].items[e->choice[2]]);
	return commit(e, &ch, why, whylen);
}

static void edit_disk(struct ed *e)
{
	static const char *const btns[] = {"OK", "New Disk...", "Cancel"};
	char dir[PATH_MAX], made[PATH_MAX];
	struct field *f;
	char *slash;

	snprintf(e->file, sizeof(e->file), "%s",
		 hwtree_value(&e->s->t, "disk", e->it.name, "file"));
	file_field(e, "Image file:", e->file, sizeof(e->file), "*.vhdx,*.vhd,*.qcow2,*.img,*.raw",
		   "VHDX, VHD, qcow2 or raw; New Disk... makes one");
	choice_field(e, "Controller:", bus_labels, 2, &e->choice[0],
		     strcasecmp(hwtree_value(&e->s->t, "disk", e->it.name, "bus"), "ide") != 0);
	f = choice_field(e, "Location:", ide_labels, 4, &e->choice[1],
			 e->it.ide >= 0 ? e->it.ide : hwtree_free_ide(&e->s->t));
	if (e->choice[1] < 0)
		e->choice[1] = 0;
	f->hidden = e->choice[0] != 0;
	f = add_field(e, FIELD_CHECK, "Read-only");
	f->check = &e->check;
	vmconfig_parse_bool(hwtree_value(&e->s->t, "disk", e->it.name, "readonly"), &e->check, NULL,
			    0);
	enum_field(e, "Format:", "format", &e->choice[2]);
	e->apply = apply_disk;
	snprintf(dir, sizeof(dir), "%s", e->s->t.path);
	if ((slash = strrchr(dir, '/')))
		*slash = '\0';
	while (run_form(e, "Hard Drive", NULL, btns, 3, disk_changed) == 1)
		if (wizard_new_disk(e->s->con, dir, made, sizeof(made)))
			snprintf(e->file, sizeof(e->file), "%s", made);
}

/* path as an absolute path: relative ones are the vmconfig's folder's. */
static void absolute(const struct hwtree *t, const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(t->path, '/');

	if (path[0] == '/' || !path[0] || !slash)
		snprintf(out, outlen, "%s", path);
	else
		snprintf(out, outlen, "%.*s/%s", (int)(slash - t->path), t->path, path);
}

enum { DVD_FILE, DVD_POS };

static int apply_dvd(struct ed *e, int button, char *why, size_t whylen, int *bad)
{
	struct chg ch = {0};
	char path[PATH_MAX], now[PATH_MAX], want[PATH_MAX], pos[2][2];

	if (button == 1) /* Eject */
		e->file[0] = '\0';
	absolute(&e->s->t, hwtree_value(&e->s->t, "dvd", e->it.name, "file"), now, sizeof(now));
	absolute(&e->s->t, e->file, want, sizeof(want));
	if (e->s->t.mode == HW_MODE_LIVE) {
		if (strcmp(now, want) == 0)
			return 0;
		if (settings_live_dvd(e->s, &e->it, want, why, whylen) < 0) {
			*bad = DVD_FILE;
			return 1;
		}
		e->changed = true;
		return 0;
	}
	hwtree_config_path(&e->s->t, e->file, path, sizeof(path));
	if (strcmp(now, want) != 0)
		ch.c[ch.n++] = (struct hw_change){"file", path};
	position_changes(e, &ch, e->choice[0], false, pos);
	return commit(e, &ch, why, whylen);
}

static void edit_dvd(struct ed *e)
{
	static const char *const btns[] = {"OK", "Eject", "Cancel"};
	struct field *f;

	snprintf(e->file, sizeof(e->file), "%s", hwtree_value(&e->s->t, "dvd", e->it.name, "file"));
	file_field(e, "Media:", e->file, sizeof(e->file), "*.iso",
		   "An ISO image; empty for an empty drive");
	f = choice_field(e, "Location:", ide_labels, 4, &e->choice[0],
			 e->it.ide >= 0 ? e->it.ide : 0);
	f->disabled = e->s->t.mode != HW_MODE_OFF;
	e->apply = apply_dvd;
	run_form(e, "DVD Drive",
		 live_text(e, "The VM is running: the disc changes now; the guest sees the media "
			      "change."),
		 btns, 3, NULL);
}

/* --- network adapters -------------------------------------------------------- */

enum { NIC_SWITCH, NIC_MODEL, NIC_MAC, NIC_FORWARD };

static int apply_nic(struct ed *e, int button, char *why, size_t whylen, int *bad)
{
	struct chg ch = {0};
	bool plugged = (unsigned)e->choice[0] < e->nsw;
	const char *sw = plugged ? e->sw[e->choice[0]] : NULL;
	const char *cur = hwtree_value(&e->s->t, "nic", e->it.name, "switch");
	bool was = strcmp(e->it.value, "Not connected") != 0;

	if (e->s->t.mode == HW_MODE_LIVE) {
		if (was == plugged && (!plugged || strcmp(sw, cur) == 0))
			return 0;
		if (settings_live_nic(e->s, &e->it, sw, why, whylen) < 0) {
			*bad = NIC_SWITCH;
			return 1;
		}
		e->changed = true;
		return 0;
	}
	if (plugged) {
		chg(e, &ch, "switch", sw);
		if (!was)
			chg(e, &ch, "connected", NULL);
	} else {
		chg(e, &ch, "connected", "no");
	}
	chg(e, &ch, "model", e->f[NIC_MODEL].items[e->choice[1]]);
	chg(e, &ch, "mac", e->text[0][0] ? e->text[0] : NULL);
	chg(e, &ch, "forward", e->text[1][0] ? e->text[1] : NULL);
	return commit(e, &ch, why, whylen);
}

static void edit_nic(struct ed *e)
{
	const char *cur = hwtree_value(&e->s->t, "nic", e->it.name, "switch"), *v;
	bool found = false, live = e->s->t.mode == HW_MODE_LIVE;
	struct field *f;

	e->nsw = settings_switches(e->sw, SETTINGS_SWITCHES_MAX);
	for (unsigned i = 0; i < e->nsw; i++)
		found |= strcmp(e->sw[i], cur) == 0;
	if (!found) /* a switch that is gone from the store stays choosable */
		snprintf(e->sw[e->nsw++], sizeof(e->sw[0]), "%s", cur);
	for (unsigned i = 0; i < e->nsw; i++)
		e->swi[i] = e->sw[i];
	e->swi[e->nsw] = "Not connected";
	choice_field(e, "Virtual switch:", e->swi, e->nsw + 1, &e->choice[0], (int)e->nsw);
	for (unsigned i = 0; i < e->nsw && strcmp(e->it.value, "Not connected"); i++)
		if (strcmp(e->sw[i], cur) == 0)
			e->choice[0] = (int)i;
	f = enum_field(e, "Model:", "model", &e->choice[1]);
	f->disabled = live;
	v = hwtree_get(&e->s->t, &e->it, "mac");
	snprintf(e->text[0], sizeof(e->text[0]), "%s", v ? v : "");
	f = text_field(e, "MAC address:", e->text[0], sizeof(e->text[0]), &kr_mac,
		       "Empty: osio gives it one at the first start");
	f->disabled = live;
	v = hwtree_get(&e->s->t, &e->it, "forward");
	snprintf(e->text[1], sizeof(e->text[1]), "%s", v ? v : "");
	f = text_field(e, "Port forwards:", e->text[1], sizeof(e->text[1]), &kr_forward,
		       "NAT switches: tcp:127.0.0.1:2222 -> 22 (commas between several)");
	f->disabled = live;
	e->apply = apply_nic;
	run_form(e, "Network Adapter",
		 live_text(e, "The VM is running: the adapter moves to the switch now (the guest "
			      "sees its link go down and up); turn the VM off to change the "
			      "rest."),
		 ok_cancel, 2, NULL);
}

/* --- COM ports, display -------------------------------------------------------- */

static const char *const com_labels[] = {
    "Not present",
    "none: the port exists, what it sends is dropped",
    "stdio: osio serial NAME connects to it",
    "pty: a new pseudo-terminal",
    "socket: a Unix socket osio listens on",
    "file: appended to a file",
};
static const char *const com_values[] = {NULL, "none", "stdio", "pty", "socket", "file"};

/* The com_values index the choice stands for (COM1 has no "Not present"). */
static unsigned com_value(const struct ed *e)
{
	return (unsigned)e->choice[0] + (e->it.port ? 0 : 1);
}

static void com_changed(struct form *f, int field, void *opaque)
{
	struct ed *e = opaque;
	unsigned v = com_value(e);

	e->f[1].hidden = v != 4 && v != 5;
}

static int apply_com(struct ed *e, int button, char *why, size_t whylen, int *bad)
{
	struct chg ch = {0};
	unsigned v = com_value(e);

	if (!com_values[v]) {
		if (!e->it.exists)
			return 0;
		if (hwtree_remove(&e->s->t, &e->it, why, whylen) < 0)
			return 1;
		e->changed = true;
		return 0;
	}
	/* A port that is not there yet gets a section even for the default. */
	if (!e->it.exists && e->it.port)
		ch.c[ch.n++] = (struct hw_change){"backend", com_values[v]};
	else
		chg(e, &ch, "backend", com_values[v]);
	chg(e, &ch, "path", v == 4 || v == 5 ? e->file : NULL);
	return commit(e, &ch, why, whylen);
}

static void edit_com(struct ed *e)
{
	const char *backend = hwtree_value(&e->s->t, "serial", e->it.name, "backend"), *p;
	unsigned skip = e->it.port ? 0 : 1, v = 0;
	struct field *f;

	if (e->it.exists || e->it.port == 0)
		for (v = 1; v < 6 && strcasecmp(com_values[v], backend); v++)
			;
	if (v >= 6)
		v = 1;
	choice_field(e, "Connection:", com_labels + skip, 6 - skip, &e->choice[0], (int)(v - skip));
	p = hwtree_get(&e->s->t, &e->it, "path");
	snprintf(e->file, sizeof(e->file), "%s", p ? p : "");
	f = file_field(e, "Path:", e->file, sizeof(e->file), NULL,
		       "socket: an absolute path; file: where the output is appended");
	f->allow_new = true;
	f->hidden = v != 4 && v != 5;
	e->apply = apply_com;
	run_form(e, e->it.label, "Where the guest's serial port leads.", ok_cancel, 2, com_changed);
}

static int apply_display(struct ed *e, int button, char *why, size_t whylen, int *bad)
{
	struct chg ch = {0};

	chg(e, &ch, "adapter", e->f[0].items[e->choice[0]]);
	chg(e, &ch, "vnc", e->text[0]);
	chg(e, &ch, "keymap", e->text[1]);
	return commit(e, &ch, why, whylen);
}

static void edit_display(struct ed *e)
{
	enum_field(e, "Adapter:", "adapter", &e->choice[0]);
	snprintf(e->text[0], sizeof(e->text[0]), "%s",
		 hwtree_value(&e->s->t, "display", NULL, "vnc"));
	text_field(e, "VNC server:", e->text[0], sizeof(e->text[0]), &kr_vnc,
		   "auto, none, HOST:PORT or an absolute socket path");
	snprintf(e->text[1], sizeof(e->text[1]), "%s",
		 hwtree_value(&e->s->t, "display", NULL, "keymap"));
	text_field(e, "VNC keyboard:", e->text[1], sizeof(e->text[1]), &kr_keymap,
		   "The layout of VNC clients that send keysyms, e.g. en-us, de");
	e->apply = apply_display;
	run_form(e, "Display", NULL, ok_cancel, 2, NULL);
}

bool settings_edit(struct settings *s, const struct hw_item *it)
{
	static const char *const action_keys[] = {"on_reboot", "on_disk_error"};
	static const char *const action_labels[] = {"Guest reboots:", "Host disk error:"};
	static const char *const rng_keys[] = {"rng"};
	static const char *const rng_labels[] = {"Entropy (rng):"};
	struct ed *e = calloc(1, sizeof(*e));
	bool changed;

	if (!e) {
		dlg_message(s->con, "Settings", "Out of memory.");
		return false;
	}
	e->s = s;
	e->it = *it;
	switch (it->kind) {
	case HW_FIRMWARE:
		edit_firmware(e);
		break;
	case HW_MEMORY:
		edit_memory(e);
		break;
	case HW_PROCESSOR:
		edit_processor(e);
		break;
	case HW_DISK:
		edit_disk(e);
		break;
	case HW_DVD:
		edit_dvd(e);
		break;
	case HW_NIC:
		edit_nic(e);
		break;
	case HW_COM:
		edit_com(e);
		break;
	case HW_DISPLAY:
		edit_display(e);
		break;
	case HW_WORKER_USER:
		edit_user(e);
		break;
	case HW_ACTIONS:
		edit_enums(e, "Automatic Actions",
			   "What osio does when the guest reboots, and when a disk on the host "
			   "fails (disk full).",
			   action_keys, action_labels, 2);
		break;
	case HW_AUTOSTART:
		edit_autostart(e);
		break;
	case HW_AUTOSTOP:
		edit_autostop(e);
		break;
	case HW_SERVICES:
		edit_enums(e, "Integration Services",
			   "virtio: the guest's /dev/random gets entropy from the host "
			   "(virtio-rng).",
			   rng_keys, rng_labels, 1);
		break;
	default:
		break;
	}
	changed = e->changed;
	free(e);
	return changed;
}
