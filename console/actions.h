/* What the user can do, as Hyper-V Manager's Actions pane lists it: each
 * action's label, its key, whether it is a host action or one on the
 * selected VM, and whether it is enabled in the selected VM's state.
 * No terminal here: the screen draws these and the console runs them. */
#ifndef OSIO_CONSOLE_ACTIONS_H
#define OSIO_CONSOLE_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>

struct vm_row;

enum con_action {
	/* host actions */
	ACT_NEW_VM,
	ACT_NEW_DISK,
	ACT_NEW_SWITCH,
	ACT_IMPORT,
	ACT_SWITCH_MANAGER,
	ACT_EDIT_DISK,
	/* actions on the selected VM */
	ACT_CONNECT,
	ACT_SETTINGS,
	ACT_START,
	ACT_TURN_OFF,
	ACT_SHUT_DOWN,
	ACT_SAVE,
	ACT_PAUSE,
	ACT_RESUME,
	ACT_RESET,
	ACT_CHECKPOINT,
	ACT_REVERT,
	ACT_DELETE,
	ACT_RENAME,
	/* the console itself */
	ACT_HELP,
	ACT_FILTER,
	ACT_QUIT,
	ACT_COUNT
};

struct action_desc {
	enum con_action id;
	const char *label;    /* "Shut Down...", as the Actions pane shows it */
	const char *short_label; /* "ShutDn": for the key bar (at most 7 columns) */
	int key;	      /* the letter (or '?', '/'), 0 none */
	int fkey;	      /* 1..12 for F1..F12 also doing it, 0 none */
	bool vm;	      /* acts on the selected VM */
	bool destructive;     /* asks first */
	const char *help;     /* one sentence for the help screen and the status line */
};

/* The action's description (a in range). */
const struct action_desc *action_get(enum con_action a);
/* The action bound to a key (a letter, '?', '/', or KEY_F(n)), or -1. */
int action_by_key(int key);

/* Whether a can be done now: host actions always; VM actions need a
 * selected VM (sel may be NULL) in a state that allows them and not busy
 * (but for Turn Off and Connect, which a busy VM allows):
 *   Start: Off, Saved, Crashed    Connect: Running, Paused, Starting
 *   Turn Off: Running, Paused, Starting    Shut Down, Reset, Pause: Running
 *   Save: Running, Paused    Resume: Paused    Checkpoint: Off, Saved, Running, Paused
 *   Revert: Checkpoint's states and the VM has a checkpoint (has_checkpoint)
 *   Settings: any state but Saving and Starting (Running VMs: some settings only)
 *   Delete, Rename: Off, Saved, Crashed
 * When not, *why (may be NULL) gets a sentence saying why ("Turn the VM off
 * first", "No VM is selected"). */
bool action_enabled(enum con_action a, const struct vm_row *sel, bool has_checkpoint, char *why,
		    size_t whylen);

/* The actions the key bar shows for the selection, in order, enabled ones
 * only, into out[0..max); returns how many. The bar always ends with Help
 * and Quit. */
unsigned action_bar(const struct vm_row *sel, bool has_checkpoint, enum con_action *out,
		    unsigned max);

#endif
