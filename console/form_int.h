/* What dlg_form's two halves share: the form's state while it is shown,
 * its layout and drawing (form_draw.c) and its input (form.c). */
#ifndef OSIO_CONSOLE_FORM_INT_H
#define OSIO_CONSOLE_FORM_INT_H

#include "console/dlgbox.h"
#include "console/lineedit.h"
#include "console/widgets.h"

#include <stdbool.h>

#define FORM_DEFAULT_WIDTH 70
#define FORM_MAX_BUTTONS   16
#define PARA_LINES	   64 /* of the text above the fields */
#define LABEL_LINES	   16 /* of one LABEL field */
#define BROWSE_COLS	   11 /* " [ Browse ]" after a file field */

enum { PART_MAIN = 0, PART_BROWSE = 1 };

/* One place the focus can be: a field's part (a radio's item, a file
 * field's Browse button) or a button (field -1, part its index). */
struct stop {
	int field, part;
};

/* One row of the scrolling body: the text above the fields (field -1), a
 * line of a LABEL, a field, a radio's label (part -1) or item. */
struct row {
	int field, part;
	const char *text;
};

struct fstate {
	struct console *con;
	struct form *f;
	struct dlgbox b;
	struct lineedit *ed;
	char (*lines)[256];
	unsigned lines_cap, nlines;
	struct row *rows;
	unsigned rows_cap, nrows;
	struct stop *stops;
	unsigned nstops;
	int ff, fp; /* focus: field (-1 a button) and part */
	int top;    /* first body row shown */
	int lw;	    /* columns of the label column, with its gap */
	int iw;	    /* inner width */
	int body_rows, btn_y;
	int xs[FORM_MAX_BUTTONS];
	unsigned nbuttons;
	char err[256];
	int err_field; /* the field whose check set err (-1: another cause) */
};

bool form_shown(const struct field *fl);
/* Takes the focus: shown, enabled, not a label. */
bool form_focusable(const struct field *fl);
/* A text or file field with a buffer. */
bool form_is_edit(const struct field *fl);
/* Lays the body out for the terminal's size, places the box, and lists
 * where the focus can go. */
void form_layout(struct fstate *s);
/* The index of the focused stop, or -1. */
int form_stop_index(const struct fstate *s);
/* Columns of a field's value (after the label column). */
int form_field_value_cols(const struct fstate *s, const struct field *fl);
/* Columns of the widest item of a choice, as it is drawn "< item >". */
int form_choice_cols(const struct fstate *s, const struct field *fl);
/* Keeps the focused field's rows in view. */
void form_scroll_to_focus(struct fstate *s);
void form_clamp_top(struct fstate *s);
/* Draws the box, its body from s->top, the error or help, the buttons,
 * and puts the cursor in the focused text. */
void form_draw(struct fstate *s);

#endif
