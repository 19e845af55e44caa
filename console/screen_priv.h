/* What the main screen's files share (screen.c, screen_list.c,
 * screen_details.c, screen_actions.c, help.c): text drawn by display
 * columns, frames, and each pane's drawing and hit testing. Not for the
 * console's other parts: they use screen.h. */
#ifndef OSIO_CONSOLE_SCREEN_PRIV_H
#define OSIO_CONSOLE_SCREEN_PRIV_H

#include "console/console.h"
#include "console/screen.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- text (screen.c) ---------------------------------------------------------------------- */

/* Display columns of UTF-8 text (invalid bytes and control characters
 * count one: they are drawn as '?'). */
int scr_width(const char *s);
/* Draws UTF-8 text s at y, x of w in at most width columns with attr; text
 * that does not fit ends in an ellipsis ("…", or "~" without Unicode).
 * Returns the columns drawn. Nothing is drawn outside the window. */
int scr_text(WINDOW *w, int y, int x, int width, const char *s, int attr, bool unicode);
/* The same, right-aligned in width columns. */
int scr_text_right(WINDOW *w, int y, int x, int width, const char *s, int attr, bool unicode);
/* width spaces in attr. */
void scr_fill(WINDOW *w, int y, int x, int width, int attr);
/* The outline of a box h x wd at top, left in attr (nothing when it does
 * not fit the window). */
void scr_box(WINDOW *w, int top, int left, int h, int wd, int attr, bool unicode);
/* A frame around inner (one cell outside it on each side), its title on
 * the top edge. */
void scr_frame(WINDOW *w, const struct screen_rect *inner, const char *title, bool focused,
	       bool unicode);
/* A vertical line's character at y, x (a separator). */
void scr_vline_char(WINDOW *w, int y, int x, int attr, bool unicode);
/* Whether y, x lies inside r. */
bool scr_inside(const struct screen_rect *r, int y, int x);

/* --- the VM list (screen_list.c) ----------------------------------------------------------- */

enum list_col { COL_NAME, COL_STATE, COL_CPU, COL_MEMORY, COL_UPTIME, COL_STATUS, COL_COUNT };

struct list_cols {
	int x[COL_COUNT], w[COL_COUNT]; /* relative to the list's left edge; w 0: dropped */
	bool compact;			/* short headers ("CPU", "Memory") to make room */
};

/* Which columns fit in width, where: Name first, the others in order while
 * they fit, dropped from the right; name_need is the longest name. */
void list_columns(int width, int name_need, struct list_cols *c);
/* The columns' texts as Hyper-V Manager shows them ("" when the VM has no
 * worker): "3 %", "2048 MB", "00:04:12" or "2.03:04:05". */
void list_fmt_cpu(const struct vm_row *r, char *buf, size_t size);
void list_fmt_memory(const struct vm_row *r, char *buf, size_t size);
void list_fmt_uptime(uint64_t ns, char *buf, size_t size);
/* The theme role a VM state is drawn with. */
int list_state_attr(enum vm_state s);
void list_draw(struct console *con, const struct screen_layout *lay);

/* --- the details pane (screen_details.c) --------------------------------------------------- */

/* Where the tabs row puts each tab (columns relative to the pane's left
 * edge; w 0: not shown for lack of room). */
void details_tabs(int width, int xs[TAB_COUNT], int ws[TAB_COUNT]);
void details_draw(struct console *con, const struct screen_layout *lay);

/* --- the Actions pane and the key bar (screen_actions.c) ----------------------------------- */

/* Whether the selected VM has a checkpoint to revert to (from its loaded
 * details). */
bool scr_has_checkpoint(const struct console *con);

/* One row of the Actions pane: a heading (action -1) or an action. */
struct actions_row {
	int action; /* enum con_action, -1 for a heading or a note */
	int index;  /* its index in screen_actions' list, -1 for a heading or a note */
	const char *text;
	bool note; /* the VM's status under its name ("Saving...") */
};
#define ACTIONS_ROWS_MAX (ACT_COUNT + 3)
/* The pane's rows in order (headings included); returns how many. */
unsigned actions_rows(struct console *con, struct actions_row *rows, unsigned max);
/* The first row shown so that con->action_sel stays visible in h rows. */
unsigned actions_first(struct console *con, const struct actions_row *rows, unsigned n, int h);
void actions_draw(struct console *con, const struct screen_layout *lay);

/* One entry of the key bar: where it is and what it does. */
struct keybar_entry {
	int action;
	int x, w;
};
#define KEYBAR_MAX ACT_COUNT
/* The entries that fit in width columns ("s Start  c Connect ... ? Help  q
 * Quit": Help and Quit always, the others while they fit). */
unsigned keybar_entries(struct console *con, int width, struct keybar_entry *out, unsigned max);
void keybar_draw(struct console *con, const struct screen_layout *lay);

#endif
