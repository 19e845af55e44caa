/* The console's main screen, Hyper-V Manager's layout in a terminal:
 *
 *   title line: "osio - N virtual machines, M running"  (filter shown when set)
 *   +- Virtual Machines ----------------------------+- Actions ---------+
 *   | Name   State   CPU Usage  Assigned Memory ...  | web               |
 *   | ...                                            |  Connect...       |
 *   +- web: Summary | Memory | Networking | Checkpoints -+  Settings...  |
 *   | details of the selected VM       | thumbnail of   |  Start        |
 *   |                                  | its screen     | Host          |
 *   +----------------------------------+----------------+  New VM...    |
 *   key bar: s Start  c Connect  ...  ? Help  q Quit
 *   status line
 *
 * At 80x24 the Actions pane folds away (the key bar and a menu on Enter
 * offer the same); wider terminals show it; the list takes what the
 * details need not. The list columns are Name, State, CPU Usage, Assigned
 * Memory, Uptime, Status (those that fit, in that order). */
#ifndef OSIO_CONSOLE_SCREEN_H
#define OSIO_CONSOLE_SCREEN_H

#include "console/actions.h"

#include <stdbool.h>

struct console;

/* Where things are (computed by screen_layout from the terminal size). */
struct screen_rect {
	int y, x, h, w; /* h or w 0: not shown */
};

struct screen_layout {
	struct screen_rect list;    /* inside its frame: header row, then VM rows */
	struct screen_rect details; /* inside its frame, tabs row first */
	struct screen_rect thumb;   /* inside the details frame; 0 when too small */
	struct screen_rect actions; /* 0 when folded away */
	struct screen_rect bar;	    /* the key bar (one row) */
	struct screen_rect status;  /* the status line (one row) */
	int list_rows;		    /* VM rows visible */
};

/* Lays the screen out for LINES x COLS (after start-up and every resize). */
void screen_layout(struct console *con, struct screen_layout *lay);
/* Draws the whole main screen on stdscr (wnoutrefresh only): title, list
 * (scrolled so the selection shows), details tab of con->details with the
 * thumbnail (thumb_draw), Actions pane of what action_enabled allows, key
 * bar, status line. */
void screen_draw(struct console *con, const struct screen_layout *lay);
/* The list of actions the Actions pane shows now (VM actions for the
 * selection, then host actions), into out; returns how many (for keyboard
 * navigation of that pane: con->action_sel indexes it). */
unsigned screen_actions(struct console *con, enum con_action *out, unsigned max);

enum screen_hit_kind {
	HIT_NONE,
	HIT_VM,	    /* index: view index of the row */
	HIT_TAB,    /* index: enum con_tab */
	HIT_ACTION, /* index: enum con_action (Actions pane or key bar) */
	HIT_PANE,   /* index: enum con_pane (a click elsewhere in a pane) */
};
struct screen_hit {
	enum screen_hit_kind kind;
	int index;
};
/* What is at row y, column x of the main screen. */
struct screen_hit screen_hit_test(struct console *con, const struct screen_layout *lay, int y,
				  int x);

/* The help screen ('?'): every key and action, scrollable; Esc closes. */
void screen_help(struct console *con);

#endif
