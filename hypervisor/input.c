/* The input router: front ends' key and pointer events to the devices
 * that registered for them. */
#include "hypervisor/input.h"

#include "hypervisor/machine.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MAX_POINTERS 4

struct input_router {
	pthread_mutex_t lock;
	const struct input_keyboard *kbd;
	const struct input_pointer *ptr[MAX_POINTERS];
	unsigned nptr;
	uint8_t down[(INPUT_KEY_MAX + 8) / 8]; /* keys the front ends hold */
	bool have_last;
	unsigned last_x, last_y; /* pixels, for relative motion */
};

struct input_router *input_router_new(void)
{
	struct input_router *r = calloc(1, sizeof(*r));
	if (r)
		pthread_mutex_init(&r->lock, NULL);
	return r;
}

void input_router_free(struct input_router *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int input_add_keyboard(struct machine *m, const struct input_keyboard *k)
{
	struct input_router *r = m->input;
	if (!r)
		return -ENODEV;
	pthread_mutex_lock(&r->lock);
	int ret = r->kbd ? -EEXIST : 0;
	if (!ret)
		r->kbd = k;
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void input_remove_keyboard(struct machine *m, const struct input_keyboard *k)
{
	struct input_router *r = m->input;
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	if (r->kbd == k)
		r->kbd = NULL;
	pthread_mutex_unlock(&r->lock);
}

int input_add_pointer(struct machine *m, const struct input_pointer *p)
{
	struct input_router *r = m->input;
	if (!r)
		return -ENODEV;
	pthread_mutex_lock(&r->lock);
	int ret = -ENOSPC;
	if (r->nptr < MAX_POINTERS) {
		/* Absolute devices first: they are preferred when active. */
		unsigned at = r->nptr;
		if (p->abs)
			for (at = 0; at < r->nptr && r->ptr[at]->abs; at++)
				;
		memmove(&r->ptr[at + 1], &r->ptr[at], (r->nptr - at) * sizeof(r->ptr[0]));
		r->ptr[at] = p;
		r->nptr++;
		ret = 0;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

void input_remove_pointer(struct machine *m, const struct input_pointer *p)
{
	struct input_router *r = m->input;
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->nptr; i++) {
		if (r->ptr[i] == p) {
			memmove(&r->ptr[i], &r->ptr[i + 1], (r->nptr - i - 1) * sizeof(r->ptr[0]));
			r->nptr--;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
}

/* Caller holds the lock. */
static void key_locked(struct input_router *r, unsigned keycode, bool down)
{
	if (keycode == 0 || keycode > INPUT_KEY_MAX)
		return;
	uint8_t bit = (uint8_t)(1u << (keycode % 8));
	bool was = r->down[keycode / 8] & bit;
	/* A key already up is not released again (a client that sends a
	 * stray release), and a key already down is not pressed again: the
	 * viewer's own auto-repeat is dropped, because the keyboard repeats
	 * held keys at the rate the guest set (typematic), as a real one. */
	if (down == was)
		return;
	if (down)
		r->down[keycode / 8] |= bit;
	else
		r->down[keycode / 8] &= (uint8_t)~bit;
	if (r->kbd)
		r->kbd->key(r->kbd->opaque, keycode, down);
}

void input_key(struct machine *m, unsigned keycode, bool down)
{
	struct input_router *r = m->input;
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	key_locked(r, keycode, down);
	pthread_mutex_unlock(&r->lock);
}

void input_key_combo(struct machine *m, const unsigned *keycodes, unsigned n)
{
	struct input_router *r = m->input;
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < n; i++)
		key_locked(r, keycodes[i], true);
	for (unsigned i = n; i-- > 0;)
		key_locked(r, keycodes[i], false);
	pthread_mutex_unlock(&r->lock);
}

void input_release_all(struct machine *m)
{
	struct input_router *r = m->input;
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	for (unsigned k = 1; k <= INPUT_KEY_MAX; k++)
		if (r->down[k / 8] & (1u << (k % 8)))
			key_locked(r, k, false);
	pthread_mutex_unlock(&r->lock);
}

void input_pointer_abs(struct machine *m, unsigned x, unsigned y, unsigned width,
		       unsigned height, int dz, unsigned buttons)
{
	struct input_router *r = m->input;
	if (!r || width == 0 || height == 0)
		return;
	if (x >= width)
		x = width - 1;
	if (y >= height)
		y = height - 1;
	pthread_mutex_lock(&r->lock);
	const struct input_pointer *abs = NULL, *rel = NULL;
	for (unsigned i = 0; i < r->nptr; i++) {
		const struct input_pointer *p = r->ptr[i];
		if (!abs && p->abs && (!p->abs_active || p->abs_active(p->opaque)))
			abs = p;
		if (!rel && p->rel)
			rel = p;
	}
	if (abs) {
		unsigned sx = width > 1 ? (unsigned)((uint64_t)x * 0xffff / (width - 1)) : 0;
		unsigned sy = height > 1 ? (unsigned)((uint64_t)y * 0xffff / (height - 1)) : 0;
		abs->abs(abs->opaque, sx, sy, dz, buttons);
	} else if (rel) {
		int dx = r->have_last ? (int)x - (int)r->last_x : 0;
		int dy = r->have_last ? (int)y - (int)r->last_y : 0;
		rel->rel(rel->opaque, dx, dy, dz, buttons);
	}
	r->have_last = true;
	r->last_x = x;
	r->last_y = y;
	pthread_mutex_unlock(&r->lock);
}

void input_pointer_rel(struct machine *m, int dx, int dy, int dz, unsigned buttons)
{
	struct input_router *r = m->input;
	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->nptr; i++) {
		if (r->ptr[i]->rel) {
			r->ptr[i]->rel(r->ptr[i]->opaque, dx, dy, dz, buttons);
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
}
