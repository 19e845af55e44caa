/* The osio console (Hyper-V Manager in a terminal): the state every part of
 * it shares, and what dialogs, wizards and views call to wait for the user
 * while the VM list behind them stays live.
 *
 * Drawing model: the main screen (screen.c) is drawn on stdscr; dialogs are
 * ncurses panels above it (widgets.c). Nothing calls refresh() itself:
 * con_getkey draws what changed (the main screen when the model changed,
 * then the panels) with update_panels() and doupdate(). */
#ifndef OSIO_CONSOLE_CONSOLE_H
#define OSIO_CONSOLE_CONSOLE_H

#include "console/actions.h"
#include "console/model.h"
#include "console/screen.h"
#include "console/vmdetails.h"

#include <stdbool.h>
#include <stddef.h>

#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>

struct loop;
struct monitor;
struct thumb;

enum con_pane { PANE_LIST, PANE_DETAILS, PANE_ACTIONS, PANE_COUNT };
enum con_tab { TAB_SUMMARY, TAB_MEMORY, TAB_NETWORKING, TAB_CHECKPOINTS, TAB_COUNT };

struct console {
	struct loop *loop;
	struct monitor *mon;
	struct vm_model model;

	/* The selected VM's details (reloaded when the selection or its
	 * vmconfig changes); details.name "" when nothing is selected. */
	struct vm_details details;
	/* The selected VM's screen, while it runs (NULL otherwise). */
	struct thumb *thumb;

	enum con_pane focus;
	enum con_tab tab;
	int action_sel;	 /* the Actions pane's highlighted entry (index into its list) */
	unsigned details_top; /* first line shown of a long details tab */

	bool editing_filter; /* '/' typed: keys go to model.filter */
	char message[256];   /* one line for the status line ("Starting web...") */

	/* What the terminal can do (set at start). */
	bool colour;	  /* has_colors() and not $NO_COLOR */
	bool truecolour;  /* direct colour (COLORTERM=truecolor/24bit and terminfo RGB) */
	int colours;	  /* COLORS */
	bool mouse;	  /* mouse reporting is on */
	bool unicode;	  /* the locale is UTF-8: half blocks and line drawing */

	struct screen_layout layout; /* the main screen's, as last drawn */
	char thumb_vm[65];	     /* the VM con->thumb was opened for (tried) */
	int thumb_pid;		     /* ... and its worker */

	bool in_main;	   /* run_main is waiting for a key (no dialog is open) */
	bool wake_main;	   /* ... and should look at its message queue */

	bool dirty;	   /* the main screen must be redrawn */
	bool quit;	   /* leave the main loop */
	int rows, cols;	   /* terminal size at the last layout */
	MEVENT last_mouse; /* the event con_getkey returned KEY_MOUSE for */
};

/* Keys as con_getkey returns them: ncurses' KEY_* codes (KEY_UP, KEY_F(1),
 * KEY_RESIZE, KEY_MOUSE, ...) as they are; a typed character c (from
 * get_wch: UTF-8 decoded) as c itself when c < KEY_MIN (ASCII, control
 * characters, Latin-1), else as c | CON_WCHAR, so that no character is
 * taken for a key code. */
#define CON_WCHAR 0x40000000
/* Whether key is a typed character (not a KEY_* code), and which. */
static inline bool con_is_char(int key)
{
	return (key >= 0 && key < KEY_MIN) || (key & CON_WCHAR);
}
static inline int con_char(int key)
{
	return key & ~CON_WCHAR;
}
#define CON_CTRL(c) ((c) & 0x1f)
/* Not a key: con_getkey returns it to the main loop (never to a dialog)
 * when a background command left a message to show. */
#define CON_KEY_WAKE (KEY_MAX + 1)

/* `osio` with no arguments and `osio console`: runs the console until the
 * user quits. Exit status: 0, or 1 when it could not start (not a
 * terminal, the store unreadable), after one message on stderr. */
int console_main(int argc, char **argv);

/* Waits for a key while the loop runs (monitor updates, jobs, thumbnails):
 * redraws the main screen when it is dirty, then the panels, then blocks.
 * KEY_RESIZE: the terminal changed size; the main screen is laid out and
 * drawn again before it is returned (dialogs re-centre themselves on it).
 * KEY_MOUSE: con->last_mouse holds the event. Never returns ERR. */
int con_getkey(struct console *con);
/* The same, but returns ERR after timeout_ms without a key (for views that
 * animate: the in-terminal screen view). */
int con_getkey_timeout(struct console *con, int timeout_ms);

/* Marks the main screen for redrawing at the next con_getkey. */
void con_dirty(struct console *con);
/* Shows text on the status line (until the next message). printf-like. */
void con_say(struct console *con, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs `osio ARGS...` (args[0] the subcommand, NULL-terminated) showing a
 * box with title and a spinner until it ends, the screen behind staying
 * live; on failure shows its output in a message box titled title.
 * out (may be NULL) gets the output. Returns the exit status (0 success),
 * or -errno when it could not start (a box said so). */
int con_run_osio(struct console *con, const char *title, const char *const *args, char *out,
		 size_t outlen);
/* Runs it in the background instead: the VM's row shows status (e.g.
 * "Saving...") and is busy until it ends; a failure pops up a message box
 * then. vm may be NULL for a host command. 0 or -errno (a box said so). */
int con_run_osio_bg(struct console *con, const char *vm, const char *status,
		    const char *const *args);

/* Leaves curses for a program that takes the terminal (osio serial, an
 * external viewer in the terminal), runs it, waits, and comes back with
 * a full redraw. Returns its exit status or -errno. */
int con_run_foreground(struct console *con, const char *const *argv);

/* The details of the VM named name were changed by the console itself
 * (settings saved): reload them now. */
void con_reload_details(struct console *con);

#endif
