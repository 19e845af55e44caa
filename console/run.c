/* The console's main loop: keys and mouse clicks on the main screen turned
 * into selection moves, pane and tab changes, the filter, and actions; and
 * the actions on VMs, each an osio command run for the user (jobs.h) after
 * asking when it destroys something. */
#include "console/run.h"

#include "console/connectview.h"
#include "console/console.h"
#include "console/dialogs.h"
#include "console/monitor.h"
#include "console/screen.h"
#include "console/widgets.h"
#include "hypervisor/checkpoint.h"
#include "hypervisor/vmstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_MAX 8

static struct queued {
	char title[128];
	char text[2048];
} queue[QUEUE_MAX];
static unsigned nqueue;

void run_queue_message(struct console *con, const char *title, const char *text)
{
	if (nqueue == QUEUE_MAX)
		return; /* the status line said it too */
	snprintf(queue[nqueue].title, sizeof(queue[nqueue].title), "%s", title);
	snprintf(queue[nqueue].text, sizeof(queue[nqueue].text), "%s", text);
	nqueue++;
	con->wake_main = true;
	con_dirty(con);
}

static void show_queued(struct console *con)
{
	while (nqueue) {
		struct queued q = queue[0];
		memmove(queue, queue + 1, (nqueue - 1) * sizeof(queue[0]));
		nqueue--;
		dlg_message(con, q.title, "%s", q.text);
	}
}

static bool has_checkpoint(const struct console *con)
{
	return con->details.now_parent[0] != 0;
}

/* The selected VM's name, or NULL. */
static const char *selected(struct console *con)
{
	struct vm_row *row = model_selected(&con->model);
	return row ? row->info.name : NULL;
}

/* The VM's power actions: one osio command on the VM, run in the background
 * (status in its row meanwhile), some after a question (%s: the VM's name). */
static const struct power_action {
	enum con_action action;
	const char *cmd, *opt, *value, *status;
	const char *title, *question;
} power_actions[] = {
    {ACT_START, "start", NULL, NULL, "Starting...", NULL, NULL},
    {ACT_TURN_OFF, "stop", NULL, NULL, "Turning off...", "Turn Off",
     "Turn '%s' off? This is pulling the plug: what the guest has not written to its disks "
     "is lost."},
    {ACT_SHUT_DOWN, "shutdown", "--timeout", "120", "Shutting down...", "Shut Down",
     "Press the power button of '%s'? The guest is asked to shut down (ACPI); one that does "
     "not within 2 minutes keeps running (Turn Off powers it off at once)."},
    {ACT_SAVE, "save", NULL, NULL, "Saving...", NULL, NULL},
    {ACT_PAUSE, "pause", NULL, NULL, "Pausing...", NULL, NULL},
    {ACT_RESUME, "resume", NULL, NULL, "Resuming...", NULL, NULL},
    {ACT_RESET, "reset", NULL, NULL, "Resetting...", "Reset",
     "Reset '%s'? Like a reset button: the guest restarts at once and loses what it has not "
     "written to its disks."},
};

/* Runs power action a on vm (once the user agrees, where it asks). */
static void power(struct console *con, enum con_action a, const char *vm)
{
	for (size_t i = 0; i < sizeof(power_actions) / sizeof(power_actions[0]); i++) {
		const struct power_action *p = &power_actions[i];

		if (p->action != a)
			continue;
		if (!p->question || dlg_confirm(con, p->title, p->title, p->question, vm)) {
			const char *args[] = {p->cmd, vm, p->opt, p->value, NULL};

			con_run_osio_bg(con, vm, p->status, args);
		}
		return;
	}
}

static int check_label(const char *value, char *why, size_t whylen, void *opaque)
{
	if (!value[0])
		return 0; /* a default label */
	return ckpt_check_label(value, why, whylen) < 0 ? -1 : 0;
}

static void do_checkpoint(struct console *con, const char *vm)
{
	char label[CKPT_LABEL_MAX + 1] = "";
	if (!dlg_input(con, "Checkpoint",
		       "A name for the checkpoint (empty: the VM's name and the time):", label,
		       sizeof(label), check_label, NULL))
		return;
	const char *args[] = {"checkpoint", vm, "create", label[0] ? label : NULL, NULL};
	con_run_osio_bg(con, vm, "Taking a checkpoint...", args);
}

static void do_revert(struct console *con, const char *vm)
{
	const char *id = con->details.now_parent;
	const char *label = id;
	for (unsigned i = 0; i < con->details.nckpts; i++)
		if (!con->details.ckpts[i].now && !strcmp(con->details.ckpts[i].id, id))
			label = con->details.ckpts[i].label;
	if (!dlg_confirm(con, "Revert Virtual Machine", "Revert",
			 "Revert '%s' to its last checkpoint, '%s'?\n\nEverything since that "
			 "checkpoint is lost: the disks go back to what they held then%s.",
			 vm, label,
			 model_selected(&con->model)->info.state == VM_OFF
			     ? ""
			     : ", and the VM goes back to where it was running then"))
		return;
	const char *args[] = {"checkpoint", vm, "apply", id, NULL};
	con_run_osio_bg(con, vm, "Reverting...", args);
}

static void do_delete(struct console *con, const char *vm)
{
	static const char *const choices[] = {
	    "Delete the VM and its disks",
	    "Delete the VM, keep its disks",
	    "Cancel",
	};
	int c = dlg_choose(con, "Delete Virtual Machine",
			   "Delete the VM from the store? Its settings, saved state and "
			   "checkpoints are removed.",
			   choices, 3, 2);
	if (c < 0 || c == 2)
		return;
	if (c == 0 &&
	    !dlg_confirm(con, "Delete Virtual Machine", "Delete",
			 "Delete '%s' and every disk in its folder? This cannot be undone.", vm))
		return;
	const char *args[] = {"delete", vm, "--yes", c == 1 ? "--keep-disks" : NULL, NULL};
	if (con_run_osio(con, "Delete Virtual Machine", args, NULL, 0) == 0) {
		con_say(con, "Deleted %s", vm);
		model_remove(&con->model, vm);
		monitor_refresh(con->mon, NULL);
		con_reload_details(con);
	}
}

static int check_name(const char *value, char *why, size_t whylen, void *opaque)
{
	if (vmstore_check_name(value, why, whylen) < 0)
		return -1;
	if (strcmp(value, (const char *)opaque) && vmstore_exists(value)) {
		snprintf(why, whylen, "A VM named '%s' exists already; choose another name.",
			 value);
		return -1;
	}
	return 0;
}

static void do_rename(struct console *con, const char *vm)
{
	char old[65], name[65];
	snprintf(old, sizeof(old), "%s", vm);
	snprintf(name, sizeof(name), "%s", vm);
	if (!dlg_input(con, "Rename", "New name of the VM:", name, sizeof(name), check_name, old) ||
	    !strcmp(name, old))
		return;
	const char *args[] = {"rename", old, name, NULL};
	if (con_run_osio(con, "Rename", args, NULL, 0) == 0) {
		model_remove(&con->model, old);
		monitor_refresh(con->mon, NULL);
		model_select_name(&con->model, name);
		con_say(con, "Renamed %s to %s", old, name);
		con_reload_details(con);
	}
}

static void do_import(struct console *con)
{
	char path[4096];
	if (!dlg_file(con, "Import Virtual Machine: pick its vmconfig file", NULL, "*.vmconfig",
		      false, false, path, sizeof(path)))
		return;
	static const char *const how[] = {
	    "Register it in place (the VM keeps its files where they are)",
	    "Copy it into the store (vmconfig and disks)",
	};
	int c = dlg_choose(con, "Import Virtual Machine", path, how, 2, 0);
	if (c < 0)
		return;
	const char *args[] = {"import", path, c == 1 ? "--copy" : NULL, NULL};
	char out[4096];
	if (con_run_osio(con, "Import Virtual Machine", args, out, sizeof(out)) == 0) {
		monitor_refresh(con->mon, NULL);
		con_say(con, "%s", out);
	}
}

void run_action(struct console *con, enum con_action a)
{
	const struct action_desc *d = action_get(a);
	struct vm_row *row = model_selected(&con->model);
	char why[200] = "";
	if (!action_enabled(a, row, has_checkpoint(con), why, sizeof(why))) {
		con_say(con, "%s: %s", d->label ? d->label : "", why[0] ? why : "not possible now");
		beep();
		return;
	}
	const char *vm = selected(con);
	switch (a) {
	case ACT_NEW_VM:
		wizard_new_vm(con);
		break;
	case ACT_NEW_DISK:
		wizard_new_disk(con, NULL, NULL, 0);
		break;
	case ACT_NEW_SWITCH:
		switch_manager(con, true);
		break;
	case ACT_SWITCH_MANAGER:
		switch_manager(con, false);
		break;
	case ACT_IMPORT:
		do_import(con);
		break;
	case ACT_EDIT_DISK:
		wizard_edit_disk(con);
		break;
	case ACT_CONNECT:
		connect_vm(con, vm);
		break;
	case ACT_SETTINGS:
		settings_open(con, vm);
		break;
	case ACT_START:
	case ACT_TURN_OFF:
	case ACT_SHUT_DOWN:
	case ACT_SAVE:
	case ACT_PAUSE:
	case ACT_RESUME:
	case ACT_RESET:
		power(con, a, vm);
		break;
	case ACT_CHECKPOINT:
		do_checkpoint(con, vm);
		break;
	case ACT_REVERT:
		do_revert(con, vm);
		break;
	case ACT_DELETE:
		do_delete(con, vm);
		break;
	case ACT_RENAME:
		do_rename(con, vm);
		break;
	case ACT_HELP:
		screen_help(con);
		break;
	case ACT_FILTER:
		con->editing_filter = true;
		con->focus = PANE_LIST;
		con_dirty(con);
		break;
	case ACT_QUIT:
		con->quit = true;
		break;
	case ACT_COUNT:
		break;
	}
	con_dirty(con);
}

/* Enter on the list (or a double click): the VM's actions as a menu, the
 * way the Actions pane offers them when it is folded away. */
static void action_menu(struct console *con)
{
	enum con_action acts[ACT_COUNT];
	const char *labels[ACT_COUNT];
	unsigned n = screen_actions(con, acts, ACT_COUNT);
	if (!n)
		return;
	for (unsigned i = 0; i < n; i++)
		labels[i] = action_get(acts[i])->label;
	struct vm_row *row = model_selected(&con->model);
	int c = dlg_choose(con, row ? row->info.name : "Actions", NULL, labels, n, 0);
	if (c >= 0)
		run_action(con, acts[c]);
}

static void filter_key(struct console *con, int k)
{
	char f[MODEL_FILTER_MAX];
	snprintf(f, sizeof(f), "%s", con->model.filter);
	size_t len = strlen(f);
	if (k == 27) { /* Esc: no filter */
		f[0] = 0;
		con->editing_filter = false;
	} else if (k == '\n' || k == '\r' || k == KEY_ENTER || k == '\t') {
		con->editing_filter = false;
	} else if (k == KEY_BACKSPACE || k == 127 || k == 8) {
		/* One UTF-8 character back. */
		while (len && ((unsigned char)f[len - 1] & 0xc0) == 0x80)
			len--;
		if (len)
			len--;
		f[len] = 0;
	} else if (k == KEY_UP || k == KEY_DOWN) {
		model_move(&con->model, k == KEY_UP ? -1 : 1);
	} else if (con_is_char(k) && con_char(k) >= 32) {
		char mb[8];
		int c = con_char(k), m;
		if (c < 0x80) {
			mb[0] = (char)c;
			m = 1;
		} else {
			mbstate_t st = {0};
			size_t w = wcrtomb(mb, (wchar_t)c, &st);
			m = w == (size_t)-1 ? 0 : (int)w;
		}
		if (m && len + (size_t)m < sizeof(f)) {
			memcpy(f + len, mb, (size_t)m);
			f[len + (size_t)m] = 0;
		}
	}
	model_set_filter(&con->model, f);
	con_reload_details(con);
	con_dirty(con);
}

static void move_in_pane(struct console *con, int k)
{
	int page = con->layout.list_rows > 1 ? con->layout.list_rows - 1 : 1;
	if (con->focus == PANE_LIST) {
		switch (k) {
		case KEY_UP:
			model_move(&con->model, -1);
			break;
		case KEY_DOWN:
			model_move(&con->model, 1);
			break;
		case KEY_PPAGE:
			model_move(&con->model, -page);
			break;
		case KEY_NPAGE:
			model_move(&con->model, page);
			break;
		case KEY_HOME:
			model_select_index(&con->model, 0);
			break;
		case KEY_END:
			model_select_index(&con->model, (int)con->model.nview - 1);
			break;
		}
		con_reload_details(con);
	} else if (con->focus == PANE_DETAILS) {
		if (k == KEY_LEFT)
			con->tab = (enum con_tab)((con->tab + TAB_COUNT - 1) % TAB_COUNT);
		else if (k == KEY_RIGHT)
			con->tab = (enum con_tab)((con->tab + 1) % TAB_COUNT);
		else if (k == KEY_UP && con->details_top)
			con->details_top--;
		else if (k == KEY_DOWN)
			con->details_top++;
		else if (k == KEY_PPAGE)
			con->details_top = con->details_top > 10 ? con->details_top - 10 : 0;
		else if (k == KEY_NPAGE)
			con->details_top += 10;
		else if (k == KEY_HOME)
			con->details_top = 0;
		if (k == KEY_LEFT || k == KEY_RIGHT)
			con->details_top = 0;
	} else {
		enum con_action acts[ACT_COUNT];
		int n = (int)screen_actions(con, acts, ACT_COUNT);
		if (k == KEY_UP && con->action_sel > 0)
			con->action_sel--;
		else if (k == KEY_DOWN && con->action_sel + 1 < n)
			con->action_sel++;
		else if (k == KEY_HOME)
			con->action_sel = 0;
		else if (k == KEY_END)
			con->action_sel = n ? n - 1 : 0;
	}
	con_dirty(con);
}

static void enter_key(struct console *con)
{
	if (con->focus == PANE_ACTIONS) {
		enum con_action acts[ACT_COUNT];
		int n = (int)screen_actions(con, acts, ACT_COUNT);
		if (con->action_sel >= 0 && con->action_sel < n)
			run_action(con, acts[con->action_sel]);
		return;
	}
	if (con->focus == PANE_DETAILS) {
		con->tab = (enum con_tab)((con->tab + 1) % TAB_COUNT);
		con_dirty(con);
		return;
	}
	action_menu(con);
}

static void mouse_key(struct console *con)
{
	MEVENT *ev = &con->last_mouse;
	if (ev->bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
		int d = ev->bstate & BUTTON4_PRESSED ? -3 : 3;
		if (con->focus == PANE_DETAILS)
			con->details_top = d < 0 ? (con->details_top > 3 ? con->details_top - 3 : 0)
						 : con->details_top + 3;
		else {
			model_move(&con->model, d);
			con_reload_details(con);
		}
		con_dirty(con);
		return;
	}
	if (!(ev->bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_DOUBLE_CLICKED)))
		return;
	struct screen_hit h = screen_hit_test(con, &con->layout, ev->y, ev->x);
	switch (h.kind) {
	case HIT_VM:
		con->focus = PANE_LIST;
		model_select_index(&con->model, h.index);
		con_reload_details(con);
		if (ev->bstate & BUTTON1_DOUBLE_CLICKED) {
			struct vm_row *row = model_selected(&con->model);
			char why[8];
			if (row && action_enabled(ACT_CONNECT, row, false, why, sizeof(why)))
				run_action(con, ACT_CONNECT);
			else
				action_menu(con);
		}
		break;
	case HIT_TAB:
		con->focus = PANE_DETAILS;
		con->tab = (enum con_tab)h.index;
		con->details_top = 0;
		break;
	case HIT_ACTION:
		run_action(con, (enum con_action)h.index);
		break;
	case HIT_PANE:
		con->focus = (enum con_pane)h.index;
		break;
	case HIT_NONE:
		break;
	}
	con_dirty(con);
}

void run_main(struct console *con)
{
	while (!con->quit) {
		show_queued(con);
		con->in_main = true;
		int k = con_getkey(con);
		con->in_main = false;
		if (k == CON_KEY_WAKE)
			continue;
		if (con->editing_filter && k != KEY_RESIZE && k != KEY_MOUSE) {
			filter_key(con, k);
			continue;
		}
		switch (k) {
		case KEY_RESIZE:
			continue;
		case KEY_MOUSE:
			mouse_key(con);
			continue;
		case '\t':
			con->focus = (enum con_pane)((con->focus + 1) % PANE_COUNT);
			if (con->focus == PANE_ACTIONS && !con->layout.actions.w)
				con->focus = PANE_LIST;
			con_dirty(con);
			continue;
		case KEY_BTAB:
			con->focus = (enum con_pane)((con->focus + PANE_COUNT - 1) % PANE_COUNT);
			if (con->focus == PANE_ACTIONS && !con->layout.actions.w)
				con->focus = PANE_DETAILS;
			con_dirty(con);
			continue;
		case KEY_UP:
		case KEY_DOWN:
		case KEY_LEFT:
		case KEY_RIGHT:
		case KEY_PPAGE:
		case KEY_NPAGE:
		case KEY_HOME:
		case KEY_END:
			move_in_pane(con, k);
			continue;
		case '\n':
		case '\r':
		case KEY_ENTER:
			enter_key(con);
			continue;
		case KEY_F(5):
		case CON_CTRL('l'):
			monitor_refresh(con->mon, NULL);
			clearok(curscr, TRUE);
			con_reload_details(con);
			con_dirty(con);
			continue;
		case 27: /* Esc clears a filter */
			if (con->model.filter[0]) {
				model_set_filter(&con->model, "");
				con_reload_details(con);
				con_dirty(con);
			}
			continue;
		case KEY_DC:
			run_action(con, ACT_DELETE);
			continue;
		}
		int a = action_by_key(k);
		if (a >= 0)
			run_action(con, (enum con_action)a);
		else if (k >= '1' && k <= '4') {
			con->tab = (enum con_tab)(k - '1');
			con->details_top = 0;
			con_dirty(con);
		}
	}
}
