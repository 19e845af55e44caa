/* The console's colours and their monochrome fallback: every part draws
 * with theme_attr(role), never with colour numbers of its own. */
#ifndef OSIO_CONSOLE_THEME_H
#define OSIO_CONSOLE_THEME_H

#include <stdbool.h>

enum theme_role {
	TH_NORMAL,	/* pane text */
	TH_TITLE,	/* the title line and pane titles */
	TH_BORDER,	/* pane and dialog frames */
	TH_FOCUS_BORDER, /* the focused pane's frame */
	TH_SELECTED,	/* the selected row of a focused list */
	TH_SELECTED_DIM, /* the selected row of a list without focus */
	TH_HEADER,	/* column headers */
	TH_DISABLED,	/* disabled actions and fields */
	TH_KEY,		/* the letter of an action in the key bar */
	TH_BAR,		/* the key bar */
	TH_STATUS,	/* the status line */
	TH_DIALOG,	/* dialog text */
	TH_DIALOG_TITLE,
	TH_FIELD,	/* an input field */
	TH_FIELD_FOCUS, /* the focused input field or button */
	TH_BUTTON,
	TH_ERROR,	/* error text */
	TH_STATE_RUNNING,
	TH_STATE_OFF,
	TH_STATE_PAUSED, /* paused, saved, saving, starting */
	TH_STATE_CRASHED,
	TH_COUNT
};

/* Sets up the colour pairs (after initscr) when colour is true; every role
 * gets a monochrome attribute (bold, reverse, underline, dim) otherwise. */
void theme_init(bool colour);
/* The attribute (colour pair and video attributes) to draw role with. */
int theme_attr(enum theme_role role);

#endif
