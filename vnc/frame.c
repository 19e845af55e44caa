/* The VNC server's framebuffer: the display surface's changes copied into
 * it (under the surface lock) and marked for every viewer, mode changes, the
 * pixel format, and the cursor shape viewers draw locally. */
#include "vnc/vnc_int.h"

#include "devices/display.h"
#include "hypervisor/evloop.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_RECTS 64
/* How long a mode change waits for a viewer still busy sending. */
#define RESIZE_WAIT_MS 1000

/* --- the cursor ----------------------------------------------------------- */

/* Standard VGA has no hardware cursor: the guest draws its own pointer. A
 * viewer that renders cursors locally gets this small dot, so it shows where
 * its pointer is at once; it is never drawn into the framebuffer. */
static unsigned char dot_source[7] = {0x38, 0x44, 0x82, 0x82, 0x82, 0x44, 0x38};
static unsigned char dot_mask[7] = {0x38, 0x7c, 0xfe, 0xfe, 0xfe, 0x7c, 0x38};
static uint32_t dot_rich[7 * 7];
static rfbCursor dot_cursor = {
    .source = dot_source,
    .mask = dot_mask,
    .width = 7,
    .height = 7,
    .xhot = 3,
    .yhot = 3,
    .foreRed = 0,
    .foreGreen = 0,
    .foreBlue = 0,
    .backRed = 0xffff,
    .backGreen = 0xffff,
    .backBlue = 0xffff,
    .richSource = (unsigned char *)dot_rich,
};

void vnc_cursor_init(void)
{
	/* The same picture in the server's pixel format (black ring, white
	 * middle), so libvncserver never builds it lazily from two threads. */
	for (unsigned y = 0; y < 7; y++)
		for (unsigned x = 0; x < 7; x++)
			dot_rich[y * 7 + x] = dot_source[y] & (0x80 >> x) ? 0 : 0x00ffffff;
}

rfbCursorPtr vnc_get_cursor(rfbClientPtr cl)
{
	return &dot_cursor;
}

/* --- the framebuffer ------------------------------------------------------ */

/* The surface's pixels into the framebuffer (the same format). */
static void copy_rect(struct vnc_server *v, const struct display_view *view, unsigned x, unsigned y,
		      unsigned w, unsigned h)
{
	if (x >= view->width || y >= view->height)
		return;
	if (w > view->width - x)
		w = view->width - x;
	if (h > view->height - y)
		h = view->height - y;
	for (unsigned row = y; row < y + h; row++) {
		const uint32_t *src =
		    (const uint32_t *)((const uint8_t *)view->pixels + (size_t)row * view->stride) +
		    x;
		uint32_t *dst = v->fb + (size_t)row * view->width + x;
		memcpy(dst, src, (size_t)w * 4);
	}
}

/* Wakes every viewer thread, after their regions were marked. */
static void wake_clients(struct vnc_server *v)
{
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < v->nclients; i++)
		vnc_wake(v->clients[i]->wake_fd);
	pthread_mutex_unlock(&v->lock);
}

static void mark(struct vnc_server *v, sraRegionPtr region)
{
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < v->nclients; i++) {
		rfbClientPtr cl = v->clients[i]->cl;
		if (!cl)
			continue;
		pthread_mutex_lock(&cl->updateMutex);
		sraRgnOr(cl->modifiedRegion, region);
		pthread_mutex_unlock(&cl->updateMutex);
		vnc_wake(v->clients[i]->wake_fd);
	}
	pthread_mutex_unlock(&v->lock);
}

/* The server's pixel format is the surface's own: 0x00RRGGBB in host order,
 * depth 24 (libvncserver would say red in the low byte and depth 32). With
 * depth 32, ZRLE viewers may expect 4-byte CPIXELs where libvncserver sends
 * 3-byte ones, and gtk-vnc copies the unused byte as alpha (a transparent
 * capture) when the formats match byte for byte; QEMU's format avoids both,
 * and copying the surface is a plain copy. */
void vnc_set_format(rfbScreenInfoPtr s)
{
	s->depth = 24;
	s->serverFormat.depth = 24;
	s->serverFormat.redShift = 16;
	s->serverFormat.greenShift = 8;
	s->serverFormat.blueShift = 0;
}

/* Takes a viewer's sendMutex for a size change. A viewer that has not taken
 * what it was sent within RESIZE_WAIT_MS holds it (blocked writing): it is
 * disconnected rather than stall the others' mode change any longer. */
static void lock_sender(rfbClientPtr cl)
{
	struct vnc_client *c = cl->clientData;
	struct timespec at;
	clock_gettime(CLOCK_REALTIME, &at);
	at.tv_sec += RESIZE_WAIT_MS / 1000;
	at.tv_nsec += (RESIZE_WAIT_MS % 1000) * 1000000L;
	if (at.tv_nsec >= 1000000000L) {
		at.tv_sec++;
		at.tv_nsec -= 1000000000L;
	}
	if (pthread_mutex_timedlock(&cl->sendMutex, &at) == 0)
		return;
	if (c) {
		log_warn("VNC: %s does not take the screen: disconnected", c->host);
		shutdown(c->shut_fd, SHUT_RDWR);
	}
	pthread_mutex_lock(&cl->sendMutex);
}

/* A new framebuffer size, as rfbNewFramebuffer does it but without its
 * races: that one locks the viewers' sendMutex through an iterator that
 * skips viewers closed meanwhile (whose mutex then stays locked), and resets
 * the pixel format. Here list_lock keeps libvncserver's client list still,
 * and msg_lock keeps viewers from handling messages. */
static void new_framebuffer(struct vnc_server *v, unsigned w, unsigned h)
{
	rfbScreenInfoPtr s = v->screen;

	for (rfbClientPtr cl = s->clientHead; cl; cl = cl->next)
		lock_sender(cl);
	pthread_mutex_lock(&s->cursorMutex);
	s->width = (int)w;
	s->height = (int)h;
	s->paddedWidthInBytes = (int)w * 4;
	s->frameBuffer = (char *)v->fb;
	if (s->cursorX >= s->width)
		s->cursorX = s->width - 1;
	if (s->cursorY >= s->height)
		s->cursorY = s->height - 1;
	for (rfbClientPtr cl = s->clientHead; cl; cl = cl->next) {
		pthread_mutex_lock(&cl->updateMutex);
		sraRgnDestroy(cl->modifiedRegion);
		cl->modifiedRegion = sraRgnCreateRect(0, 0, (int)w, (int)h);
		sraRgnMakeEmpty(cl->copyRegion);
		cl->copyDX = 0;
		cl->copyDY = 0;
		/* DesktopSize and ExtendedDesktopSize viewers are told first. */
		if (cl->useNewFBSize)
			cl->newFBSizePending = TRUE;
		pthread_mutex_unlock(&cl->updateMutex);
	}
	pthread_mutex_unlock(&s->cursorMutex);
	for (rfbClientPtr cl = s->clientHead; cl; cl = cl->next)
		pthread_mutex_unlock(&cl->sendMutex);
}

static void switch_size(struct vnc_server *v, unsigned w, unsigned h)
{
	size_t old = (size_t)v->width * v->height * 4, now = (size_t)w * h * 4;
	pthread_mutex_lock(&v->list_lock);
	pthread_rwlock_wrlock(&v->msg_lock);
	new_framebuffer(v, w, h);
	v->width = w;
	v->height = h;
	pthread_rwlock_unlock(&v->msg_lock);
	pthread_mutex_unlock(&v->list_lock);
	if (old > now) {
		size_t page = (size_t)sysconf(_SC_PAGESIZE);
		size_t from = (now + page - 1) / page * page;
		if (from < old)
			madvise((uint8_t *)v->fb + from, old - from, MADV_DONTNEED);
	}
	wake_clients(v);
}

/* Brings the framebuffer up to date with the surface. */
void vnc_refresh(struct vnc_server *v)
{
	struct display_rect rects[MAX_RECTS];
	struct display_view view;

	v->last_refresh_ns = clock_ns();
	display_refresh(v->surface);
	unsigned n = display_consumer_take(v->consumer, rects, MAX_RECTS, NULL);
	if (n == 0)
		return;
	display_lock(v->surface, &view);
	if (view.width != v->width || view.height != v->height) {
		copy_rect(v, &view, 0, 0, view.width, view.height);
		display_unlock(v->surface);
		switch_size(v, view.width, view.height);
		return;
	}
	sraRegionPtr region = sraRgnCreate();
	for (unsigned i = 0; i < n; i++) {
		copy_rect(v, &view, rects[i].x, rects[i].y, rects[i].w, rects[i].h);
		sraRegionPtr r = sraRgnCreateRect((int)rects[i].x, (int)rects[i].y,
						  (int)(rects[i].x + rects[i].w),
						  (int)(rects[i].y + rects[i].h));
		sraRgnOr(region, r);
		sraRgnDestroy(r);
	}
	display_unlock(v->surface);
	mark(v, region);
	sraRgnDestroy(region);
}

void vnc_first_picture(struct vnc_server *v)
{
	struct display_rect r;
	struct display_view view;

	display_refresh(v->surface);
	display_consumer_take(v->consumer, &r, 1, NULL);
	display_lock(v->surface, &view);
	v->width = view.width;
	v->height = view.height;
	copy_rect(v, &view, 0, 0, view.width, view.height);
	display_unlock(v->surface);
	v->last_refresh_ns = clock_ns();
}
