/* The console's VM list as data (model.h): rows sorted by name, the rows the
 * filter shows, and a selection that follows its VM by name. */
#include "console/model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void model_init(struct vm_model *m)
{
	memset(m, 0, sizeof(*m));
	m->sel = -1;
}

void model_free(struct vm_model *m)
{
	free(m->rows);
	free(m->view);
	model_init(m);
}

/* The index where name is or would go; *found whether it is there. */
static unsigned find_pos(const struct vm_model *m, const char *name, bool *found)
{
	unsigned lo = 0, hi = m->n;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int c = strcmp(m->rows[mid].info.name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Case-insensitive: needle in hay (needle "" is in everything). */
static bool contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return true;
	return n == 0;
}

static bool shown(const struct vm_model *m, const struct vm_row *r)
{
	return !m->filter[0] || contains(r->info.name, m->filter) ||
	       contains(vm_state_name(r->info.state), m->filter);
}

static void set_sel(struct vm_model *m, int i)
{
	m->sel = i;
	if (i < 0)
		m->sel_name[0] = '\0';
	else
		snprintf(m->sel_name, sizeof(m->sel_name), "%s", m->rows[m->view[i]].info.name);
}

/* The view again after rows or the filter changed: the selection stays on
 * sel_name when it is shown, else goes to view index fallback (clamped). */
static void rebuild(struct vm_model *m, int fallback)
{
	int sel = -1;

	m->nview = 0;
	for (unsigned i = 0; i < m->n; i++) {
		if (!shown(m, &m->rows[i]))
			continue;
		if (m->sel_name[0] && strcmp(m->rows[i].info.name, m->sel_name) == 0)
			sel = (int)m->nview;
		m->view[m->nview++] = i;
	}
	if (sel < 0 && m->nview) {
		sel = fallback < 0 ? 0 : fallback;
		if ((unsigned)sel >= m->nview)
			sel = (int)m->nview - 1;
	}
	set_sel(m, sel);
	if (m->top >= m->nview)
		m->top = m->nview ? m->nview - 1 : 0;
}

static int grow(struct vm_model *m)
{
	unsigned cap = m->cap ? m->cap * 2 : 16;
	struct vm_row *rows;
	unsigned *view;

	rows = realloc(m->rows, cap * sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	m->rows = rows;
	view = realloc(m->view, cap * sizeof(*view));
	if (!view)
		return -ENOMEM;
	m->view = view;
	m->cap = cap;
	return 0;
}

int model_update(struct vm_model *m, const struct vm_info *info)
{
	bool found;
	unsigned pos = find_pos(m, info->name, &found);

	if (found) {
		m->rows[pos].info = *info;
	} else {
		if (m->n == m->cap && grow(m) < 0)
			return -ENOMEM;
		memmove(&m->rows[pos + 1], &m->rows[pos], (m->n - pos) * sizeof(*m->rows));
		memset(&m->rows[pos], 0, sizeof(*m->rows));
		m->rows[pos].info = *info;
		m->n++;
	}
	/* Before anyone chose, the first row (VMs arrive in any order). */
	if (!m->chosen)
		m->sel_name[0] = '\0';
	/* A state change can take the selected VM out of a filter's view. */
	rebuild(m, m->chosen && m->sel >= 0 ? m->sel : 0);
	return 0;
}

/* Removes rows[pos], keeping the selection's place when it was the one. */
static void remove_at(struct vm_model *m, unsigned pos)
{
	int place = m->sel;

	memmove(&m->rows[pos], &m->rows[pos + 1], (m->n - pos - 1) * sizeof(*m->rows));
	m->n--;
	rebuild(m, place);
}

void model_remove(struct vm_model *m, const char *name)
{
	bool found;
	unsigned pos = find_pos(m, name, &found);

	if (found)
		remove_at(m, pos);
}

void model_retain(struct vm_model *m, char *const *names, unsigned n)
{
	for (unsigned i = m->n; i-- > 0;) {
		bool keep = false;

		for (unsigned j = 0; j < n && !keep; j++)
			keep = names[j] && strcmp(names[j], m->rows[i].info.name) == 0;
		if (!keep)
			remove_at(m, i);
	}
}

struct vm_row *model_find(struct vm_model *m, const char *name)
{
	bool found;
	unsigned pos = find_pos(m, name, &found);

	return found ? &m->rows[pos] : NULL;
}

struct vm_row *model_selected(struct vm_model *m)
{
	if (m->sel < 0 || (unsigned)m->sel >= m->nview)
		return NULL;
	return &m->rows[m->view[m->sel]];
}

void model_set_status(struct vm_model *m, const char *name, const char *status)
{
	struct vm_row *r = model_find(m, name);

	if (r)
		snprintf(r->status, sizeof(r->status), "%s", status ? status : "");
}

void model_set_busy(struct vm_model *m, const char *name, bool busy)
{
	struct vm_row *r = model_find(m, name);

	if (r)
		r->busy = busy;
}

void model_set_filter(struct vm_model *m, const char *filter)
{
	snprintf(m->filter, sizeof(m->filter), "%s", filter ? filter : "");
	m->top = 0;
	rebuild(m, 0);
}

void model_select_index(struct vm_model *m, int view_index)
{
	m->chosen = true;
	if (!m->nview) {
		set_sel(m, -1);
		return;
	}
	if (view_index < 0)
		view_index = 0;
	if ((unsigned)view_index >= m->nview)
		view_index = (int)m->nview - 1;
	set_sel(m, view_index);
}

void model_move(struct vm_model *m, int delta)
{
	long to = (long)(m->sel < 0 ? 0 : m->sel) + delta;

	if (to < 0)
		to = 0;
	if (to > (long)m->nview - 1)
		to = (long)m->nview - 1;
	model_select_index(m, (int)to);
}

void model_select_name(struct vm_model *m, const char *name)
{
	m->chosen = true;
	for (unsigned i = 0; i < m->nview; i++)
		if (strcmp(m->rows[m->view[i]].info.name, name) == 0) {
			set_sel(m, (int)i);
			return;
		}
}

void model_scroll(struct vm_model *m, unsigned visible)
{
	if (visible < 1)
		visible = 1;
	if (m->sel >= 0) {
		if ((unsigned)m->sel < m->top)
			m->top = (unsigned)m->sel;
		else if ((unsigned)m->sel >= m->top + visible)
			m->top = (unsigned)m->sel - visible + 1;
	}
	/* No empty rows at the end while rows above are hidden. */
	if (m->top + visible > m->nview)
		m->top = m->nview > visible ? m->nview - visible : 0;
}

unsigned model_count_running(const struct vm_model *m)
{
	unsigned n = 0;

	for (unsigned i = 0; i < m->n; i++)
		switch (m->rows[i].info.state) {
		case VM_STARTING:
		case VM_RUNNING:
		case VM_PAUSED:
		case VM_SAVING:
			n++;
			break;
		default:
			break;
		}
	return n;
}
