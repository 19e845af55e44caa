/* The VNC server of a VM on libvncserver, with threads of our own: one
 * server thread accepts viewers and copies what changed on the display
 * surface into the server's framebuffer (at most 60 times a second, and only
 * while viewers are connected); one thread per viewer reads its messages and
 * sends its updates, so a slow or hostile viewer only ever stalls itself.
 *
 * libvncserver's own threaded mode is not used: its listener uses select()
 * on any descriptor number, its output threads poll while a viewer
 * authenticates, and its shutdown reads freed clients. Here every client is
 * created, served and destroyed by its own thread, and the library's client
 * list only changes under list_lock. */
#include "vnc/vnc.h"
#include "vnc/vnc_int.h"

#include "devices/display.h"
#include "hypervisor/evloop.h"
#include "hypervisor/input.h"
#include "hypervisor/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* How long a viewer may stall in the middle of a message, or not read what
 * we send, before it is dropped. */
#define CLIENT_WAIT_MS 5000
/* Flood guard: a viewer may send this many messages at once, and this many
 * a second on average (pointer motion comes at most ~1000 a second). */
#define FLOOD_BURST 5000.0
#define FLOOD_RATE  2000.0
/* A WebSocket viewer's HTTP request must be complete within this time. */
#define WS_REQUEST_MS  5000
#define WS_REQUEST_MAX 4096

static atomic_bool running; /* libvncserver keeps process-wide state: one server */

/* --- libvncserver's log, and one-time set-up ----------------------------- */

static void rfb_log(const char *fmt, ...)
{
	if (!tracing(TRACE_DEV))
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_trace("vnc: %s", buf);
}

static void global_init(void)
{
	vnc_cursor_init();
	rfbLog = rfb_log;
	rfbErr = rfb_log;
	vnc_ext_key_register();
	/* libvncserver draws its VNC authentication challenges from random(),
	 * seeded with the time and pid on first use; seed it from the kernel
	 * after that first use. */
	unsigned char dummy[CHALLENGESIZE];
	unsigned seed;
	rfbRandomBytes(dummy);
	if (getrandom(&seed, sizeof(seed), 0) == (ssize_t)sizeof(seed))
		srandom(seed);
}

static void block_sigpipe(void)
{
	/* Writes to a viewer that went away give EPIPE, not a signal. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void vnc_wake(int fd)
{
	uint64_t one = 1;
	if (write(fd, &one, sizeof(one)) < 0) {
		/* The counter is full: the fd is readable anyway. */
	}
}

static void drain(int fd)
{
	uint64_t n;
	if (read(fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing was signalled. */
	}
}

/* --- input from viewers (in the viewer's thread) ---------------------------- */

static void on_key(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
	struct vnc_client *c = cl->clientData;
	if (c)
		vnc_keysym_event(c->v, &c->keys, down, keysym);
}

/* RFB buttons: bit 0 left, 1 middle, 2 right, 3 and 4 a wheel step up and
 * down (press and release, one step per press). */
static void on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	struct vnc_client *c = cl->clientData;
	if (!c)
		return;
	int dz = 0;
	if ((mask & 0x08) && !(c->buttons & 0x08))
		dz -= 1;
	if ((mask & 0x10) && !(c->buttons & 0x10))
		dz += 1;
	unsigned b = (mask & 1 ? INPUT_BUTTON_LEFT : 0) | (mask & 2 ? INPUT_BUTTON_MIDDLE : 0) |
		     (mask & 4 ? INPUT_BUTTON_RIGHT : 0);
	c->buttons = (unsigned)mask & 0xff;
	c->last_x = x < 0 ? 0 : (unsigned)x;
	c->last_y = y < 0 ? 0 : (unsigned)y;
	/* The size is stable: a resize waits for messages being handled. */
	input_pointer_abs(c->v->m, c->last_x, c->last_y, (unsigned)cl->screen->width,
			  (unsigned)cl->screen->height, dz, b);
}

static rfbBool check_password(rfbClientPtr cl, const char *response, int len)
{
	static atomic_uint_fast64_t last_warning;
	if (rfbCheckPasswordByList(cl, response, len))
		return TRUE;
	/* At most one line every 10 seconds, whatever a viewer tries. */
	uint64_t now = clock_ns(), last = atomic_load(&last_warning);
	if (now - last > 10000000000ull &&
	    atomic_compare_exchange_strong(&last_warning, &last, now))
		log_warn("VNC: wrong password from %s",
			 cl->host && cl->host[0] ? cl->host : "a viewer");
	return FALSE;
}

/* --- a viewer's thread -------------------------------------------------- */

/* Sends what the viewer asked for and what changed, if anything did. A
 * DesktopSize update goes alone, so the pixels follow in a second one. */
static void flush(rfbClientPtr cl)
{
	for (int pass = 0; pass < 2; pass++) {
		if (cl->sock == RFB_INVALID_SOCKET || cl->state != RFB_NORMAL)
			return;
		pthread_mutex_lock(&cl->updateMutex);
		bool due = !sraRgnEmpty(cl->requestedRegion) && FB_UPDATE_PENDING(cl);
		sraRegionPtr r = due ? sraRgnCreateRgn(cl->modifiedRegion) : NULL;
		pthread_mutex_unlock(&cl->updateMutex);
		if (!due)
			return;
		pthread_mutex_lock(&cl->sendMutex);
		rfbSendFramebufferUpdate(cl, r);
		pthread_mutex_unlock(&cl->sendMutex);
		sraRgnDestroy(r);
	}
}

static bool flood_ok(struct vnc_client *c)
{
	uint64_t now = clock_ns();
	c->tokens += (double)(now - c->tokens_at) * FLOOD_RATE / 1e9;
	if (c->tokens > FLOOD_BURST)
		c->tokens = FLOOD_BURST;
	c->tokens_at = now;
	if (c->tokens < 1.0)
		return false;
	c->tokens -= 1.0;
	return true;
}

/* Waits (in steps, a stop ends it) until ms passed. false if stopped. */
static bool nap(struct vnc_client *c, int ms)
{
	struct pollfd p = {.fd = c->wake_fd, .events = POLLIN};
	return poll(&p, 1, ms) == 0 && !atomic_load(&c->v->stopping);
}

/* A viewer that speaks first is a WebSocket (noVNC) or TLS one: let its
 * whole HTTP request arrive before libvncserver reads it, so libvncserver
 * never waits on it while list_lock is held. RFB viewers wait for us. */
static int await_request(struct vnc_client *c)
{
	char buf[WS_REQUEST_MAX + 1];
	struct pollfd p[2] = {{.fd = c->sock, .events = POLLIN},
			      {.fd = c->wake_fd, .events = POLLIN}};
	if (poll(p, 2, 100) <= 0 || !(p[0].revents & POLLIN))
		return 0;
	ssize_t got = recv(c->sock, buf, 4, MSG_PEEK);
	if (got < 4 || memcmp(buf, "GET ", 4) != 0)
		return 0;
	for (int waited = 0; waited < WS_REQUEST_MS; waited += 10) {
		got = recv(c->sock, buf, WS_REQUEST_MAX, MSG_PEEK);
		if (got <= 0)
			return -1;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			return 0;
		if (got == WS_REQUEST_MAX || !nap(c, 10))
			return -1;
	}
	return -1;
}

static void serve(struct vnc_client *c, rfbClientPtr cl)
{
	struct vnc_server *v = c->v;

	while (!atomic_load(&v->stopping)) {
		if (cl->sock == RFB_INVALID_SOCKET || cl->state == RFB_SHUTDOWN)
			return;
		struct pollfd p[2] = {{.fd = cl->sock, .events = POLLIN},
				      {.fd = c->wake_fd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (p[1].revents)
			drain(c->wake_fd);
		if (p[0].revents) {
			do {
				if (!flood_ok(c)) {
					log_warn("VNC: %s sends messages faster than any viewer "
						 "does: disconnected",
						 c->host);
					rfbCloseClient(cl);
					return;
				}
				bool normal = cl->state == RFB_NORMAL;
				if (normal)
					pthread_rwlock_rdlock(&v->msg_lock);
				rfbProcessClientMessage(cl);
				if (normal)
					pthread_rwlock_unlock(&v->msg_lock);
			} while (cl->sock != RFB_INVALID_SOCKET && webSocketsHasDataInBuffer(cl));
			if (cl->sock != RFB_INVALID_SOCKET && cl->scaledScreen != cl->screen) {
				/* libvncserver's scaled copies are not kept in step
				 * with mode changes. */
				log_warn("VNC: %s asked for server-side scaling, which osio does "
					 "not offer: disconnected",
					 c->host);
				rfbCloseClient(cl);
				return;
			}
		}
		flush(cl);
	}
}

/* libvncserver 0.9.14 forgets a WebSocket viewer's context and the
 * extensions' records; later ones free them after this hook unless gone. */
static void client_gone(rfbClientPtr cl)
{
	vnc_ext_key_forget(cl);
	free(cl->wsctx);
	cl->wsctx = NULL;
}

static void *client_main(void *arg)
{
	struct vnc_client *c = arg;
	struct vnc_server *v = c->v;
	rfbClientPtr cl = NULL;

	block_sigpipe();
	if (await_request(c) < 0) {
		close(c->sock);
		goto done;
	}
	pthread_mutex_lock(&v->list_lock);
	cl = rfbNewClient(v->screen, c->sock); /* closes the socket on failure */
	pthread_mutex_unlock(&v->list_lock);
	if (!cl)
		goto done;
	cl->clientData = c;
	cl->clientGoneHook = client_gone;
	pthread_mutex_lock(&v->lock);
	c->cl = cl;
	pthread_mutex_unlock(&v->lock);
	if (tracing(TRACE_DEV))
		log_trace("vnc: viewer %s connected", c->host);

	serve(c, cl);

	/* Nothing stays pressed in the guest after a viewer leaves. */
	vnc_keys_release(v, &c->keys);
	if (c->buttons & 0x07)
		input_pointer_abs(v->m, c->last_x, c->last_y, v->width, v->height, 0, 0);
	pthread_mutex_lock(&v->lock);
	c->cl = NULL;
	pthread_mutex_unlock(&v->lock);
	/* Closing frees what WebSocket viewers had (their path). */
	if (cl->sock != RFB_INVALID_SOCKET)
		rfbCloseClient(cl);
	pthread_mutex_lock(&v->list_lock);
	rfbClientConnectionGone(cl);
	pthread_mutex_unlock(&v->list_lock);
	if (tracing(TRACE_DEV))
		log_trace("vnc: viewer %s gone", c->host);
done:
	atomic_store(&c->done, true);
	vnc_wake(v->wake_fd);
	return NULL;
}

/* --- the server thread ---------------------------------------------------- */

static void client_free(struct vnc_client *c)
{
	close(c->shut_fd);
	close(c->wake_fd);
	free(c);
}

/* Joins the threads of viewers that went away. */
static void reap(struct vnc_server *v)
{
	for (unsigned i = 0; i < v->nclients;) {
		struct vnc_client *c = v->clients[i];
		if (!atomic_load(&c->done)) {
			i++;
			continue;
		}
		pthread_join(c->thread, NULL);
		pthread_mutex_lock(&v->lock);
		v->clients[i] = v->clients[--v->nclients];
		pthread_mutex_unlock(&v->lock);
		client_free(c);
	}
}

static void peer_name(int fd, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	snprintf(buf, size, "a viewer");
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		snprintf(buf, size, "a viewer on the Unix socket");
	}
}

static void keepalive(int fd)
{
	/* A viewer whose machine vanished is noticed within about two minutes. */
	int one = 1, idle = 60, intvl = 10, cnt = 6;
	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) == 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
		setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	}
}

/* A new connection: refused when there are too many, else it gets a thread. */
static void admit(struct vnc_server *v, int fd)
{
	static atomic_uint_fast64_t last_warning;
	const char *why = NULL;
	struct vnc_client *c = NULL;

	if (fd >= FD_SETSIZE)
		why = "the worker has too many open files (libvncserver needs descriptors below "
		      "1024)";
	else if (v->nclients == VNC_MAX_CLIENTS)
		why = "too many viewers are connected";
	if (why) {
		uint64_t now = clock_ns(), last = atomic_load(&last_warning);
		if (now - last > 10000000000ull &&
		    atomic_compare_exchange_strong(&last_warning, &last, now))
			log_warn("VNC: refused a viewer: %s", why);
		close(fd);
		return;
	}
	keepalive(fd);
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail;
	c->v = v;
	c->sock = fd;
	c->shut_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	c->tokens = FLOOD_BURST;
	c->tokens_at = clock_ns();
	atomic_init(&c->done, false);
	peer_name(fd, c->host, sizeof(c->host));
	if (c->shut_fd < 0 || c->wake_fd < 0)
		goto fail;
	/* The first viewer after a quiet time gets a current picture. */
	vnc_refresh(v);
	pthread_mutex_lock(&v->lock);
	v->clients[v->nclients++] = c;
	pthread_mutex_unlock(&v->lock);
	if (pthread_create(&c->thread, NULL, client_main, c) != 0) {
		pthread_mutex_lock(&v->lock);
		v->nclients--;
		pthread_mutex_unlock(&v->lock);
		goto fail;
	}
	return;
fail:
	log_warn("VNC: refused a viewer: out of memory or file descriptors");
	if (c) {
		if (c->shut_fd >= 0)
			close(c->shut_fd);
		if (c->wake_fd >= 0)
			close(c->wake_fd);
		free(c);
	}
	close(fd);
}

static void accept_all(struct vnc_server *v, int lfd, uint64_t *pause_until)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			admit(v, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* The connection waits in the backlog; try again later
			 * rather than spin. */
			*pause_until = clock_ns() + 1000000000ull;
		}
		return;
	}
}

static void *server_main(void *arg)
{
	struct vnc_server *v = arg;
	uint64_t pause_until = 0;
	bool refresh_due = false;

	block_sigpipe();
	while (!atomic_load(&v->stopping)) {
		struct pollfd p[2 + VNC_MAX_LISTEN];
		unsigned n = 0, first_listen, nlisten = 0;
		uint64_t now = clock_ns();
		int timeout = -1;

		p[n++] = (struct pollfd){.fd = v->wake_fd, .events = POLLIN};
		first_listen = n;
		if (now >= pause_until)
			for (; nlisten < v->listen.n; nlisten++)
				p[n++] =
				    (struct pollfd){.fd = v->listen.fds[nlisten], .events = POLLIN};
		else
			timeout = (int)((pause_until - now) / 1000000) + 1;
		/* The consumer's signal covers register and legacy-window
		 * writes; writes to the linear framebuffer only show in KVM's
		 * dirty log, which a refresh reads. So while anyone watches,
		 * refresh at the frame rate (cheap when nothing was written). */
		refresh_due = v->nclients > 0;
		if (refresh_due) {
			uint64_t at = v->last_refresh_ns + VNC_REFRESH_NS;
			int ms = at > now ? (int)((at - now) / 1000000) + 1 : 0;
			timeout = timeout < 0 || ms < timeout ? ms : timeout;
		}
		if (poll(p, n, timeout) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			drain(v->wake_fd);
			reap(v);
		}
		for (unsigned i = first_listen; i < first_listen + nlisten; i++)
			if (p[i].revents)
				accept_all(v, p[i].fd, &pause_until);
		if (refresh_due && clock_ns() >= v->last_refresh_ns + VNC_REFRESH_NS)
			vnc_refresh(v);
	}

	/* Stop: every viewer's socket is shut down, which ends whatever its
	 * thread waits on; then the threads are joined. */
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < v->nclients; i++) {
		shutdown(v->clients[i]->shut_fd, SHUT_RDWR);
		vnc_wake(v->clients[i]->wake_fd);
	}
	pthread_mutex_unlock(&v->lock);
	for (unsigned i = 0; i < v->nclients; i++)
		pthread_join(v->clients[i]->thread, NULL);
	for (unsigned i = 0; i < v->nclients; i++)
		client_free(v->clients[i]);
	v->nclients = 0;
	return NULL;
}

/* --- start and stop ----------------------------------------------------- */

static int make_screen(struct vnc_server *v)
{
	rfbScreenInfoPtr s = rfbGetScreen(NULL, NULL, (int)v->width, (int)v->height, 8, 3, 4);
	if (!s)
		return -ENOMEM;
	v->screen = s;
	vnc_set_format(s);
	s->screenData = v;
	s->frameBuffer = (char *)v->fb;
	s->desktopName = v->name;
	s->alwaysShared = TRUE; /* several viewers at once, always */
	s->neverShared = FALSE;
	/* We listen and accept ourselves. */
	s->port = 0;
	s->ipv6port = 0;
	s->httpPort = 0;
	s->http6Port = 0;
	s->autoPort = FALSE;
	/* Updates go out as soon as they are due; pointer events at once. */
	s->deferUpdateTime = 0;
	s->deferPtrUpdateTime = 0;
	s->maxClientWait = CLIENT_WAIT_MS;
	s->cursor = NULL;
	s->getCursorPtr = vnc_get_cursor;
	s->kbdAddEvent = on_key;
	s->ptrAddEvent = on_pointer;
	if (v->have_password) {
		s->authPasswdData = v->pw.list;
		s->authPasswdFirstViewOnly = 1;
		s->passwordCheck = check_password;
	}
	return 0;
}

int vnc_server_start(struct machine *m, struct display_surface *s, const struct vnc_spec *spec,
		     const char *vm_name, struct vnc_server **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int r = -ENOMEM;
	bool expected = false;

	if (!atomic_compare_exchange_strong(&running, &expected, true)) {
		log_error("VNC: this process already runs a VNC server (one per VM worker)");
		return -EBUSY;
	}
	pthread_once(&once, global_init);

	struct vnc_server *v = calloc(1, sizeof(*v));
	if (!v)
		goto fail_running;
	v->m = m;
	v->surface = s;
	v->wake_fd = -1;
	v->fb = MAP_FAILED;
	snprintf(v->name, sizeof(v->name), "%s", vm_name && vm_name[0] ? vm_name : "osio");
	pthread_mutex_init(&v->lock, NULL);
	pthread_mutex_init(&v->list_lock, NULL);
	pthread_rwlock_init(&v->msg_lock, NULL);
	atomic_init(&v->stopping, false);
	atomic_init(&v->caps_lock, false);

	if (spec->password_file[0]) {
		if ((r = vnc_passwords_load(spec->password_file, &v->pw)) < 0)
			goto fail;
		v->have_password = true;
	}
	if ((r = keymap_load(spec->keymap[0] ? spec->keymap : "en-us", &v->keymap)) < 0)
		goto fail;
	for (size_t i = 0; i < keymap_count(v->keymap); i++)
		if (keymap_at(v->keymap, i)->mods & KEYMAP_ALTGR)
			v->keymap_altgr = true;
	r = -ENOMEM;
	v->fb = mmap(NULL, VNC_FB_BYTES, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->fb == MAP_FAILED) {
		log_error("VNC: cannot map a framebuffer: %s", strerror(errno));
		goto fail;
	}
	v->consumer = display_consumer_new(s);
	v->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!v->consumer || v->wake_fd < 0) {
		log_error("VNC: out of memory or file descriptors");
		goto fail;
	}
	vnc_first_picture(v);
	if ((r = make_screen(v)) < 0) {
		log_error("VNC: out of memory");
		goto fail;
	}
	if ((r = vnc_listen_open(spec, v->have_password, &v->listen)) < 0)
		goto fail;
	if ((r = -pthread_create(&v->thread, NULL, server_main, v)) < 0) {
		log_error("VNC: cannot start a thread: %s", strerror(-r));
		goto fail;
	}
	v->thread_started = true;
	*out = v;
	return 0;
fail:
	vnc_server_stop(v);
	return r;
fail_running:
	atomic_store(&running, false);
	return r;
}

const char *vnc_server_address(const struct vnc_server *v)
{
	return v->listen.address;
}

unsigned vnc_server_port(const struct vnc_server *v)
{
	return v->listen.port;
}

void vnc_server_stop(struct vnc_server *v)
{
	if (!v)
		return;
	atomic_store(&v->stopping, true);
	/* Viewer threads blocked writing to a viewer that does not read end
	 * now, and so does the server thread if it waits for one of them. */
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < v->nclients; i++)
		shutdown(v->clients[i]->shut_fd, SHUT_RDWR);
	pthread_mutex_unlock(&v->lock);
	if (v->thread_started) {
		vnc_wake(v->wake_fd);
		pthread_join(v->thread, NULL);
	}
	vnc_listen_close(&v->listen);
	if (v->screen)
		rfbScreenCleanup(v->screen);
	display_consumer_free(v->consumer);
	if (v->fb != MAP_FAILED)
		munmap(v->fb, VNC_FB_BYTES);
	if (v->wake_fd >= 0)
		close(v->wake_fd);
	keymap_free(v->keymap);
	vnc_passwords_clear(&v->pw);
	pthread_rwlock_destroy(&v->msg_lock);
	pthread_mutex_destroy(&v->list_lock);
	pthread_mutex_destroy(&v->lock);
	free(v);
	atomic_store(&running, false);
}
