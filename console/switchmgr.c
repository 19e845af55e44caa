/* The Virtual Switch Manager: the store's switches (name, type, network,
 * notes), a new one through `osio switch create` (NAT, private, internal,
 * external), an edit of what a definition lets change (a NAT switch's
 * subnet, the bridge, the uplink, the notes), and `osio switch delete`
 * after saying which VMs name the switch. */
#include "console/console.h"
#include "console/dialogs.h"
#include "console/dlgbox.h"
#include "console/theme.h"
#include "console/widgets.h"
#include "devices/net/switchdef.h"
#include "hypervisor/vmstore.h"
#include "vmconfig/vmconfig.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_SWITCHES 128
#define MAX_UPLINKS  32

struct sw_row {
	struct net_switch_cfg cfg;
	char net[64];
	char notes[SWITCHDEF_NOTES_MAX + 1];
	bool builtin; /* no definition in the store */
};

struct swmgr {
	struct console *con;
	struct dlgbox box;
	struct sw_row *rows;
	unsigned n;
	int sel, top, focus; /* focus: -1 the list, else a button */
	char msg[512];
};

enum { B_NEW, B_EDIT, B_DELETE, B_CLOSE, NB };
static const char *const buttons[NB] = {"New...", "Edit...", "Delete", "Close"};

static int one(const struct net_switch_cfg *cfg, void *opaque)
{
	struct swmgr *m = opaque;
	struct sw_row *r;

	if (m->n == MAX_SWITCHES)
		return 0;
	r = &m->rows[m->n++];
	r->cfg = *cfg;
	switchdef_network(cfg, "bridge ", "VMs only", r->net, sizeof(r->net));
	r->builtin = !switchdef_notes(cfg->name, r->notes, sizeof(r->notes));
	switchdef_one_line(r->notes);
	return 0;
}

static void reload(struct swmgr *m, const char *select)
{
	char err[1024] = "";

	m->n = 0;
	if (switchdef_foreach(one, m, err, sizeof(err)) < 0 && err[0])
		snprintf(m->msg, sizeof(m->msg), "%.500s", err);
	for (unsigned i = 0; select && i < m->n; i++)
		if (strcmp(m->rows[i].cfg.name, select) == 0)
			m->sel = (int)i;
	if (m->sel >= (int)m->n)
		m->sel = (int)m->n - 1;
	if (m->sel < 0)
		m->sel = 0;
}

/* --- drawing -------------------------------------------------------------------- */

static int list_rows(const struct swmgr *m)
{
	return m->box.h - 9 < 1 ? 1 : m->box.h - 9;
}

static void draw(struct swmgr *m)
{
	int h = (int)m->n + 11, w = COLS - 2 < 96 ? COLS - 2 : 96, rows, a, cols[3];
	WINDOW *win;
	char line[SWITCHDEF_NOTES_MAX + 16];

	dlgbox_place(&m->box, h > LINES - 2 ? LINES - 2 : h, w);
	win = m->box.win;
	w = m->box.w;
	rows = list_rows(m);
	dlgbox_frame(&m->box, "Virtual Switch Manager");
	cols[0] = 2;
	cols[1] = 20;
	cols[2] = 30;
	a = theme_attr(TH_HEADER);
	dlg_fill(win, 1, 1, w - 2, a);
	dlg_put(win, 1, cols[0], "Name", 17, a);
	dlg_put(win, 1, cols[1], "Type", 9, a);
	dlg_put(win, 1, cols[2], "Network", w - cols[2] - 2, a);
	dlg_list_scroll(&m->top, m->sel, rows, (int)m->n);
	for (int r = 0; r < rows && m->top + r < (int)m->n; r++) {
		const struct sw_row *row = &m->rows[m->top + r];
		int y = 2 + r;

		a = theme_attr(TH_DIALOG);
		if (m->top + r == m->sel)
			a = theme_attr(m->focus < 0 ? TH_SELECTED : TH_SELECTED_DIM);
		dlg_fill(win, y, 1, w - 2, a);
		dlg_put(win, y, cols[0], row->cfg.name, 17, a);
		dlg_put(win, y, cols[1], net_switch_kind_name(row->cfg.kind), 9, a);
		dlg_put(win, y, cols[2], row->net, w - cols[2] - 2, a);
	}
	if (m->n && m->sel >= 0) {
		const struct sw_row *row = &m->rows[m->sel];
		char wrapped[2][256];
		unsigned k;

		snprintf(line, sizeof(line), "Notes: %s",
			 row->notes[0]	? row->notes
			 : row->builtin ? "built in"
					: "none");
		k = wrap_text(line, w - 4, wrapped, 2);
		for (unsigned i = 0; i < k; i++)
			dlg_put(win, 3 + rows + (int)i, 2, wrapped[i], w - 4,
				theme_attr(TH_DIALOG));
	}
	if (m->msg[0])
		dlg_put(win, m->box.h - 3, 2, m->msg, w - 4, theme_attr(TH_ERROR));
	else
		dlg_put(win, m->box.h - 3, 2, "n: new   Enter: edit   Del: delete   Esc: close",
			w - 4, theme_attr(TH_DISABLED));
	dlg_buttons_draw(win, m->box.h - 2, 1, w - 2, buttons, NB, m->focus, B_CLOSE, NULL);
}

/* --- new ------------------------------------------------------------------------ */

static const char *const type_labels[] = {
    "NAT: the VMs reach the host's networks through NAT (DHCP, DNS)",
    "Private: the VMs on it reach each other only",
    "Internal: the VMs and this host, on a host bridge",
    "External: as internal, with a host network adapter on the bridge",
};
static const char *const type_names[] = {"nat", "private", "internal", "external"};

enum { F_NAME, F_TYPE, F_SUBNET, F_RESTRICT, F_BRIDGE, F_UPLINK, F_NOTES, NF };

struct swform {
	struct swmgr *m;
	struct field f[NF];
	char name[NET_NAME_MAX], subnet[32], bridge[NET_IFNAME_MAX + 8], uplink[NET_IFNAME_MAX + 8];
	char notes[SWITCHDEF_NOTES_MAX + 1];
	int type;
	bool restrict_;
	const struct sw_row *editing; /* NULL: a new switch */
	char done[NET_NAME_MAX];      /* the switch made or changed */
};

static void sw_changed(struct form *f, int field, void *opaque)
{
	struct swform *s = opaque;

	s->f[F_SUBNET].hidden = s->f[F_RESTRICT].hidden = s->type != 0;
	s->f[F_BRIDGE].hidden = s->type < 2;
	s->f[F_UPLINK].hidden = s->type != 3;
}

static int check_name(const char *value, char *why, size_t whylen, void *opaque)
{
	if (switchdef_name_ok(value))
		return 0;
	snprintf(why, whylen, "'%s' is not a valid switch name: " SWITCHDEF_NAME_RULE, value);
	return 1;
}

static int check_subnet(const char *value, char *why, size_t whylen, void *opaque)
{
	struct in_addr net, mask;

	if (!value[0] || net_subnet_parse(value, &net, &mask) == 0)
		return 0;
	snprintf(why, whylen, "'%s': " SWITCHDEF_SUBNET_RULE, value);
	return 1;
}

static int check_ifname(const char *value, char *why, size_t whylen, void *opaque)
{
	if (!value[0] || switchdef_ifname_ok(value))
		return 0;
	snprintf(why, whylen, "'%s': not an interface name (" SWITCHDEF_IFNAME_RULE ")", value);
	return 1;
}

static void first_line(const char *out, char *why, size_t whylen)
{
	size_t n = strcspn(out, "\n");

	snprintf(why, whylen, "%.*s", (int)n, n ? out : "the command failed");
}

static int create(struct swform *s, char *why, size_t whylen, int *bad)
{
	const char *args[16];
	char out[4096];
	unsigned n = 0;
	int r;

	if (!s->name[0]) {
		snprintf(why, whylen, "Give the switch a name");
		*bad = F_NAME;
		return 1;
	}
	if (s->type == 3 && !s->uplink[0]) {
		snprintf(why, whylen,
			 "An external switch needs the host's network adapter it shares (its "
			 "uplink)");
		*bad = F_UPLINK;
		return 1;
	}
	args[n++] = "switch";
	args[n++] = "create";
	args[n++] = s->name;
	args[n++] = "--type";
	args[n++] = type_names[s->type];
	if (s->type == 0 && s->subnet[0]) {
		args[n++] = "--subnet";
		args[n++] = s->subnet;
	}
	if (s->type == 0 && s->restrict_)
		args[n++] = "--restrict";
	if (s->type >= 2 && s->bridge[0]) {
		args[n++] = "--bridge";
		args[n++] = s->bridge;
	}
	if (s->type == 3) {
		args[n++] = "--uplink";
		args[n++] = s->uplink;
	}
	if (s->notes[0]) {
		args[n++] = "--notes";
		args[n++] = s->notes;
	}
	args[n] = NULL;
	r = con_run_osio(s->m->con, "New Virtual Switch", args, out, sizeof(out));
	if (r != 0) {
		first_line(out, why, whylen);
		return 1;
	}
	snprintf(s->done, sizeof(s->done), "%s", s->name);
	return 0;
}

/* An existing switch's definition replaced whole (write and rename): its
 * type and name stay; VMs running on it keep their connection until they
 * join it again. */
static int edit(struct swform *s, char *why, size_t whylen, int *bad)
{
	struct net_switch_cfg cfg = s->editing->cfg;
	int r;

	if (cfg.kind == NET_SWITCH_NAT) {
		if (s->subnet[0] && net_subnet_parse(s->subnet, &cfg.subnet, &cfg.netmask) < 0) {
			check_subnet(s->subnet, why, whylen, NULL);
			*bad = F_SUBNET;
			return 1;
		}
		cfg.restricted = s->restrict_;
	}
	if (cfg.kind == NET_SWITCH_INTERNAL || cfg.kind == NET_SWITCH_EXTERNAL) {
		if (s->bridge[0])
			snprintf(cfg.bridge, sizeof(cfg.bridge), "%.15s", s->bridge);
	}
	if (cfg.kind == NET_SWITCH_EXTERNAL) {
		if (!s->uplink[0]) {
			snprintf(why, whylen, "An external switch needs its uplink");
			*bad = F_UPLINK;
			return 1;
		}
		snprintf(cfg.uplink, sizeof(cfg.uplink), "%.15s", s->uplink);
	}
	if ((r = switchdef_save(&cfg, true, why, whylen)) < 0)
		return 1;
	if ((r = switchdef_set_notes(cfg.name, s->notes, why, whylen)) < 0)
		return 1;
	snprintf(s->done, sizeof(s->done), "%s", cfg.name);
	return 0;
}

static int sw_validate(struct form *f, int button, char *why, size_t whylen, int *bad, void *opaque)
{
	struct swform *s = opaque;

	return s->editing ? edit(s, why, whylen, bad) : create(s, why, whylen, bad);
}

/* The host's network adapters for an external switch's uplink: those in
 * /sys/class/net but the loopback, bridges and osio's TAP devices. */
static unsigned host_nics(char names[][NET_IFNAME_MAX], unsigned max)
{
	DIR *d = opendir("/sys/class/net");
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		char path[PATH_MAX];
		struct stat st;

		if (e->d_name[0] == '.' || strcmp(e->d_name, "lo") == 0 ||
		    strlen(e->d_name) >= NET_IFNAME_MAX)
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", e->d_name);
		if (stat(path, &st) == 0)
			continue;
		snprintf(path, sizeof(path), "/sys/class/net/%s/tun_flags", e->d_name);
		if (stat(path, &st) == 0)
			continue;
		snprintf(names[n++], NET_IFNAME_MAX, "%.15s", e->d_name);
	}
	closedir(d);
	return n;
}

static void switch_form(struct swmgr *m, const struct sw_row *editing)
{
	static const char *const btns[] = {"OK", "Cancel"};
	struct swform *s = calloc(1, sizeof(*s));
	char nics[MAX_UPLINKS][NET_IFNAME_MAX], help[160];
	unsigned nn;
	struct field *f;

	if (!s)
		return;
	s->m = m;
	s->editing = editing;
	f = s->f;
	f[F_NAME] = (struct field){.type = FIELD_TEXT,
				   .label = "Name:",
				   .buf = s->name,
				   .size = sizeof(s->name),
				   .check_fn = check_name,
				   .disabled = editing != NULL};
	f[F_TYPE] = (struct field){.type = FIELD_RADIO,
				   .label = "Connection type:",
				   .items = type_labels,
				   .nitems = 4,
				   .choice = &s->type,
				   .disabled = editing != NULL};
	f[F_SUBNET] = (struct field){.type = FIELD_TEXT,
				     .label = "Subnet:",
				     .buf = s->subnet,
				     .size = sizeof(s->subnet),
				     .check_fn = check_subnet,
				     .help = "The VMs' network; empty: 10.0.2.0/24"};
	f[F_RESTRICT] = (struct field){
	    .type = FIELD_CHECK, .label = "The VMs reach this host only", .check = &s->restrict_};
	f[F_BRIDGE] = (struct field){.type = FIELD_TEXT,
				     .label = "Bridge:",
				     .buf = s->bridge,
				     .size = sizeof(s->bridge),
				     .check_fn = check_ifname,
				     .help = "The host bridge; empty: osbr-NAME, made when needed"};
	nn = host_nics(nics, MAX_UPLINKS);
	snprintf(help, sizeof(help), "The host's network adapter it shares%s%s%s",
		 nn ? " (here: " : "", nn ? nics[0] : "",
		 nn > 1 ? ", ...)"
		 : nn	? ")"
			: "");
	f[F_UPLINK] = (struct field){.type = FIELD_TEXT,
				     .label = "Uplink:",
				     .buf = s->uplink,
				     .size = sizeof(s->uplink),
				     .check_fn = check_ifname,
				     .help = help};
	f[F_NOTES] = (struct field){
	    .type = FIELD_TEXT, .label = "Notes:", .buf = s->notes, .size = sizeof(s->notes)};
	if (editing) {
		const struct net_switch_cfg *c = &editing->cfg;

		snprintf(s->name, sizeof(s->name), "%s", c->name);
		for (int i = 0; i < 4; i++)
			if (strcmp(type_names[i], net_switch_kind_name(c->kind)) == 0)
				s->type = i;
		if (c->kind == NET_SWITCH_NAT)
			net_subnet_format(c->subnet, c->netmask, s->subnet, sizeof(s->subnet));
		s->restrict_ = c->restricted;
		snprintf(s->bridge, sizeof(s->bridge), "%s", c->bridge);
		snprintf(s->uplink, sizeof(s->uplink), "%s", c->uplink);
		snprintf(s->notes, sizeof(s->notes), "%s", editing->notes);
	} else if (nn) {
		snprintf(s->uplink, sizeof(s->uplink), "%s", nics[0]);
	}
	sw_changed(NULL, 0, s);
	struct form form = {
	    .title = editing ? "Edit Virtual Switch" : "New Virtual Switch",
	    .text = editing ? "The name and type stay; running VMs keep their connection until "
			      "they join the switch again."
			    : NULL,
	    .fields = s->f,
	    .nfields = NF,
	    .buttons = btns,
	    .nbuttons = 2,
	    .default_button = 0,
	    .cancel_button = 1,
	    .validate = sw_validate,
	    .changed = sw_changed,
	    .opaque = s,
	    .width = 76,
	};
	if (dlg_form(m->con, &form) == 0 && s->done[0]) {
		reload(m, s->done);
		snprintf(m->msg, sizeof(m->msg), "Switch '%s' %s.", s->done,
			 editing ? "changed" : "created");
	}
	free(s);
}

/* --- delete ---------------------------------------------------------------------- */

/* The VMs whose adapters name the switch, "a, b" into buf. */
static void users_of(const char *sw, char *buf, size_t size)
{
	char **names = NULL, path[PATH_MAX];
	unsigned n = 0;
	size_t o = 0;

	buf[0] = '\0';
	if (vmstore_list(&names, &n) < 0)
		return;
	for (unsigned i = 0; i < n; i++) {
		struct vmconfig_error err;
		struct vmconfig *cfg;
		bool uses = false;

		if (vmstore_vmconfig(names[i], path, sizeof(path)) < 0 ||
		    !(cfg = vmconfig_load(path, &err)))
			continue;
		for (unsigned k = 0; k < vmconfig_count(cfg, "nic"); k++) {
			const char *nm = vmconfig_section_name(cfg, "nic", k);
			const char *v = vmconfig_get(cfg, "nic", nm[0] ? nm : NULL, "switch");

			uses |= strcmp(v ? v : "default", sw) == 0;
		}
		vmconfig_free(cfg);
		if (uses && o < size)
			o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? ", " : "", names[i]);
	}
	vmstore_free_names(names);
}

static void delete_switch(struct swmgr *m)
{
	const struct sw_row *row = &m->rows[m->sel];
	char users[512], out[4096], name[NET_NAME_MAX];
	const char *args[] = {"switch", "delete", name, NULL, NULL};

	snprintf(name, sizeof(name), "%s", row->cfg.name);
	users_of(name, users, sizeof(users));
	if (!dlg_confirm(m->con, "Delete Virtual Switch", "Delete", "Delete the switch '%s'?%s%s%s",
			 name, users[0] ? " These VMs name it: " : "", users,
			 users[0] ? ". Their adapters are disconnected (running VMs' at once); "
				    "connect them to another switch in Settings."
				  : ""))
		return;
	/* osio switch delete refuses a switch in use unless told: the user was. */
	if (users[0])
		args[3] = "--force";
	if (con_run_osio(m->con, "Delete Virtual Switch", args, out, sizeof(out)) == 0)
		snprintf(m->msg, sizeof(m->msg), "Switch '%s' deleted.", name);
	reload(m, NULL);
}

/* --- the window -------------------------------------------------------------------- */

static void press(struct swmgr *m, int b)
{
	m->msg[0] = '\0';
	if (b == B_NEW)
		switch_form(m, NULL);
	else if (b == B_EDIT && m->n)
		switch_form(m, &m->rows[m->sel]);
	else if (b == B_DELETE && m->n)
		delete_switch(m);
}

static int click(struct swmgr *m)
{
	int y, x, xs[NB];

	if (!dlg_click(m->con, &m->box, &y, &x)) {
		m->sel += dlg_wheel(m->con, &m->box);
		return -1;
	}
	if (y == m->box.h - 2) {
		dlg_buttons_draw(m->box.win, m->box.h - 2, 1, m->box.w - 2, buttons, NB, m->focus,
				 B_CLOSE, xs);
		return dlg_buttons_hit(buttons, NB, xs, x);
	}
	if (y >= 2 && y < 2 + list_rows(m) && m->top + y - 2 < (int)m->n) {
		m->focus = -1;
		m->sel = m->top + y - 2;
		if (m->con->last_mouse.bstate & BUTTON1_DOUBLE_CLICKED)
			return B_EDIT;
	}
	return -1;
}

void switch_manager(struct console *con, bool create_now)
{
	struct swmgr *m = calloc(1, sizeof(*m));

	if (!m || !(m->rows = calloc(MAX_SWITCHES, sizeof(*m->rows)))) {
		free(m);
		dlg_message(con, "Virtual Switch Manager", "Out of memory.");
		return;
	}
	m->con = con;
	m->focus = -1;
	reload(m, NULL);
	if (dlgbox_open(&m->box, con, 12, 60) < 0)
		goto out;
	if (create_now) {
		draw(m);
		press(m, B_NEW);
	}
	for (;;) {
		int key, b = -1;

		draw(m);
		key = con_getkey(con);
		if (key == KEY_MOUSE)
			b = click(m);
		else if (key == DLG_KEY_ESC || key == 'q')
			b = B_CLOSE;
		else if (key == '\t' || key == KEY_RIGHT)
			m->focus = m->focus + 1 >= NB ? -1 : m->focus + 1;
		else if (key == KEY_BTAB || key == KEY_LEFT)
			m->focus = m->focus < 0 ? NB - 1 : m->focus - 1;
		else if (dlg_key_enter(key) || (key == ' ' && m->focus >= 0))
			b = m->focus >= 0 ? m->focus : B_EDIT;
		else if (key == 'n' || key == KEY_IC)
			b = B_NEW;
		else if (key == 'e')
			b = B_EDIT;
		else if (key == KEY_DC || key == 'd')
			b = B_DELETE;
		else if (key == KEY_UP)
			m->sel--, m->focus = -1;
		else if (key == KEY_DOWN)
			m->sel++, m->focus = -1;
		else if (key == KEY_HOME)
			m->sel = 0;
		else if (key == KEY_END)
			m->sel = (int)m->n - 1;
		if (m->sel >= (int)m->n)
			m->sel = (int)m->n - 1;
		if (m->sel < 0)
			m->sel = 0;
		if (b == B_CLOSE)
			break;
		if (b >= 0)
			press(m, b);
	}
	dlgbox_close(&m->box);
out:
	free(m->rows);
	free(m);
	con_dirty(con);
}
