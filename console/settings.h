/* What the Settings window's files share (settings.c: the window and its
 * tree; settings_edit.c: an editor per item; settings_hw.c: adding and
 * removing hardware, the changes a running VM takes live, the DVD dialog).
 * Internal to them. */
#ifndef OSIO_CONSOLE_SETTINGS_H
#define OSIO_CONSOLE_SETTINGS_H

#include "console/dlgbox.h"
#include "console/hwtree.h"

#include <stdbool.h>
#include <stddef.h>

#define SETTINGS_SWITCHES_MAX 64

struct settings {
	struct console *con;
	struct hwtree t;
	struct dlgbox box;
	int sel, top;  /* the selected tree item and the first one shown */
	int focus;     /* -1 the tree, else a button */
	char msg[512]; /* a line under the tree: the last result or error */
};

/* What Settings lets change on the VM name now (its state in the list, or
 * a worker that runs). */
enum hw_mode settings_mode(struct console *con, const char *name);

/* Opens the editor of item it (a copy is taken): Enter in the tree. Edits
 * go into s->t (a running VM's live changes are applied and saved at
 * once); true when something changed. */
bool settings_edit(struct settings *s, const struct hw_item *it);

/* Add Hardware: asks which, then adds it to s->t (the VM off). */
void settings_add(struct settings *s);
/* Remove the item after asking. */
void settings_remove(struct settings *s, const struct hw_item *it);

/* A running VM's DVD drive it gets file (absolute; "" ejects) now, and the
 * vmconfig with it. 0, or -errno with the reason in why (a failed osio
 * command has shown its message already). */
int settings_live_dvd(struct settings *s, const struct hw_item *it, const char *file, char *why,
		      size_t whylen);
/* A running VM's adapter is plugged into switch sw (NULL: unplugged) now,
 * and the vmconfig says so. 0 or -errno with why. */
int settings_live_nic(struct settings *s, const struct hw_item *it, const char *sw, char *why,
		      size_t whylen);

/* The store's switches by name ("default" first) into names; how many. */
unsigned settings_switches(char (*names)[64], unsigned max);

#endif
