/* The console's VM list as data, without a terminal: one row per VM of the
 * store (what vmstore_info says, plus the Status column), kept sorted by
 * name, a filter, the selection (kept by name across updates) and the
 * scroll position. The monitor feeds it; the screen draws it. */
#ifndef OSIO_CONSOLE_MODEL_H
#define OSIO_CONSOLE_MODEL_H

#include "hypervisor/vmstore.h"

#include <stdbool.h>
#include <stddef.h>

#define MODEL_FILTER_MAX 64
#define MODEL_STATUS_MAX 160

struct vm_row {
	struct vm_info info; /* info.name is the key */
	/* Hyper-V's Status column: what is being done to the VM ("Starting...",
	 * "Saving...", "Shutting down..."), or the last failure ("Crashed:
	 * <last log line>", "Start failed: ..."); "" for nothing. */
	char status[MODEL_STATUS_MAX];
	/* An osio command the console started on this VM is running: actions
	 * on it wait (action_enabled says no) until it ends. */
	bool busy;
};

struct vm_model {
	struct vm_row *rows; /* every VM, sorted by name (strcmp) */
	unsigned n, cap;
	unsigned *view; /* indexes into rows of the VMs the filter shows, in order */
	unsigned nview;
	char filter[MODEL_FILTER_MAX]; /* "" shows all */
	int sel;		       /* index into view; -1 when the view is empty */
	unsigned top;		       /* first view index shown */
	char sel_name[65];	       /* the selected VM's name, kept across updates */
	bool chosen; /* a selection was asked for (model_move/select_*); until then the
			first row is selected, whatever order the VMs come in */
};

void model_init(struct vm_model *m);
void model_free(struct vm_model *m);

/* Inserts the VM info names, or replaces its info (keeping its status and
 * busy). The selection stays on the same VM once one was chosen; before
 * that it is the first row. 0, -ENOMEM. */
int model_update(struct vm_model *m, const struct vm_info *info);
/* Removes a VM (no-op when absent). A removed selected VM moves the
 * selection to the next row (or the previous at the end). */
void model_remove(struct vm_model *m, const char *name);
/* Drops every VM not in names[0..n) (a fresh listing of the store). */
void model_retain(struct vm_model *m, char *const *names, unsigned n);

struct vm_row *model_find(struct vm_model *m, const char *name);
/* The selected row, or NULL. */
struct vm_row *model_selected(struct vm_model *m);
/* Status text and busy flag of a VM (no-op when absent). */
void model_set_status(struct vm_model *m, const char *name, const char *status);
void model_set_busy(struct vm_model *m, const char *name, bool busy);

/* Filter: case-insensitive substring of the name or the state's name
 * ("running" shows every running VM). The selection stays on its VM when
 * the filter still shows it, else moves to the first shown. */
void model_set_filter(struct vm_model *m, const char *filter);

/* Selection moves: by delta rows (clamped), to a view index, to a name. */
void model_move(struct vm_model *m, int delta);
void model_select_index(struct vm_model *m, int view_index);
void model_select_name(struct vm_model *m, const char *name);
/* Adjusts top so that the selection is among the visible rows shown
 * (visible >= 1) and the list does not end before the window does when it
 * need not. */
void model_scroll(struct vm_model *m, unsigned visible);

/* Counts for the title line: VMs in total, running (or paused, saving,
 * starting: a worker exists). */
unsigned model_count_running(const struct vm_model *m);

#endif
