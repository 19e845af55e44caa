/* vmmouse: VMware's absolute pointer on the VMware backdoor (port 0x5658),
 * with the queue and status semantics of QEMU's vmmouse and what Linux's
 * psmouse vmmouse driver expects.
 *
 * Why this device for the absolute pointer: Linux's psmouse driver
 * (CONFIG_MOUSE_PS2_VMMOUSE, on in Debian's kernels, accepted on KVM) and
 * X.org's vmmouse driver use it out of the box, and it needs no USB or
 * virtio stack: it is a few registers beside the PS/2 mouse the VM has
 * anyway. Each event also sends a PS/2 mouse packet so the driver gets IRQ
 * 12 and reads the queue, as on VMware and QEMU. Windows has no driver for
 * it in the box: it needs a USB tablet or virtio-input, which come later. */
#include "devices/vmmouse.h"

#include "devices/device.h"
#include "devices/i8042.h"
#include "hypervisor/exitregs.h"
#include "hypervisor/input.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_WORDS  1024 /* as QEMU: 256 events */
#define EVENT_WORDS  4
#define READ_MAX     6 /* one DATA call fills EAX, EBX, ECX, EDX, ESI, EDI */
#define STATUS_OK    0x0000
#define STATUS_ERROR 0xffff

/* What GETVERSION answers (QEMU's defaults, from open-vm-tools): version 6
 * of the backdoor, product type 2. */
#define VMPORT_VERSION	   6
#define VMPORT_VMX_TYPE	   2
#define VMPORT_UNSUPPORTED 0xffffffffu

struct vmmouse {
	struct machine *m;
	void *kbc; /* the i8042 whose mouse wakes the driver */
	pthread_mutex_t lock;
	uint32_t queue[QUEUE_WORDS];
	unsigned head, count;
	uint16_t status; /* STATUS_OK while enabled, STATUS_ERROR otherwise */
	bool absolute;
	uint64_t dropped; /* events lost to a full queue */
	struct input_pointer input;
};

/* ---- queue (caller holds the lock) ---- */

static void push(struct vmmouse *v, uint32_t w)
{
	v->queue[(v->head + v->count) % QUEUE_WORDS] = w;
	v->count++;
}

static uint32_t pop(struct vmmouse *v)
{
	uint32_t w = v->queue[v->head];
	v->head = (v->head + 1) % QUEUE_WORDS;
	v->count--;
	return w;
}

static void disable(struct vmmouse *v)
{
	/* The queue stays as it is; the status reads as an error until the
	 * driver enables the device again. */
	v->status = STATUS_ERROR;
}

static void power_on(struct vmmouse *v)
{
	v->head = v->count = 0;
	v->absolute = false;
	disable(v);
}

static void abspointer_command(struct vmmouse *v, uint32_t sub)
{
	switch (sub) {
	case VMMOUSE_CMD_ENABLE:
		if (v->count < QUEUE_WORDS)
			push(v, VMMOUSE_VERSION_ID);
		v->status = STATUS_OK;
		break;
	case VMMOUSE_CMD_DISABLE:
		disable(v);
		break;
	case VMMOUSE_CMD_REQUEST_RELATIVE:
	case VMMOUSE_CMD_REQUEST_ABSOLUTE:
		/* Only an enabled device switches modes. */
		if (v->status == STATUS_OK)
			v->absolute = sub == VMMOUSE_CMD_REQUEST_ABSOLUTE;
		break;
	default:
		if (tracing(TRACE_DEV))
			log_trace("vmmouse: unknown pointer command 0x%08x ignored", sub);
		break;
	}
}

/* ABSPOINTER_DATA: `n` words into the registers in order. Asking for none,
 * for more than six or for more than the queue holds is a protocol error:
 * the device disables itself and the registers stay as they were. */
static bool abspointer_data(struct vmmouse *v, uint32_t n, struct exit_regs *r)
{
	if (n == 0 || n > READ_MAX || n > v->count) {
		if (tracing(TRACE_DEV))
			log_trace("vmmouse: driver read %u words with %u queued", n, v->count);
		disable(v);
		return false;
	}
	uint64_t *regs[READ_MAX] = {&r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi};
	for (uint32_t i = 0; i < n; i++)
		*regs[i] = pop(v);
	return true;
}

/* One backdoor call with the vCPU's registers; returns EAX and updates r.
 * Returns false when no other register changes. */
static bool backdoor(struct vmmouse *v, struct exit_regs *r)
{
	if ((uint32_t)r->rax != VMPORT_MAGIC) {
		r->rax = VMPORT_UNSUPPORTED;
		return false;
	}
	uint32_t bx = (uint32_t)r->rbx;
	bool changed = false;
	pthread_mutex_lock(&v->lock);
	switch ((uint16_t)r->rcx) {
	case VMPORT_CMD_GETVERSION:
		r->rax = VMPORT_VERSION;
		r->rbx = VMPORT_MAGIC;
		r->rcx = VMPORT_VMX_TYPE;
		changed = true;
		break;
	case VMPORT_CMD_ABSPOINTER_STATUS:
		r->rax = (uint32_t)v->status << 16 | v->count;
		break;
	case VMPORT_CMD_ABSPOINTER_COMMAND:
		abspointer_command(v, bx);
		r->rax = (uint32_t)r->rax; /* the magic stays in EAX */
		break;
	case VMPORT_CMD_ABSPOINTER_DATA:
		changed = abspointer_data(v, bx, r);
		r->rax = (uint32_t)r->rax;
		break;
	default:
		if (tracing(TRACE_DEV))
			log_trace("vmmouse: unsupported backdoor command %u",
				  (unsigned)(uint16_t)r->rcx);
		r->rax = VMPORT_UNSUPPORTED;
		break;
	}
	pthread_mutex_unlock(&v->lock);
	return changed;
}

/* ---- port ---- */

/* The backdoor answers 32-bit accesses at its base; anything else reads as
 * an empty port. */
static uint64_t port_read(void *opaque, uint64_t offset, unsigned size)
{
	struct vmmouse *v = opaque;
	struct exit_regs r;
	if (offset != 0 || size != 4 || !exit_regs_get(&r))
		return ~0ull;
	if (backdoor(v, &r))
		exit_regs_set(&r);
	return (uint32_t)r.rax;
}

/* An OUT runs the command too, and its result lands in EAX (as in QEMU). */
static void port_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct vmmouse *v = opaque;
	struct exit_regs r;
	if (offset != 0 || size != 4 || !exit_regs_get(&r))
		return;
	backdoor(v, &r);
	r.rax = (uint32_t)r.rax;
	exit_regs_set(&r);
}

static const struct bus_ops port_ops = {.read = port_read, .write = port_write};

/* ---- input from the router ---- */

static uint32_t buttons_word(unsigned buttons)
{
	return (buttons & INPUT_BUTTON_LEFT ? VMMOUSE_LEFT_BUTTON : 0) |
	       (buttons & INPUT_BUTTON_RIGHT ? VMMOUSE_RIGHT_BUTTON : 0) |
	       (buttons & INPUT_BUTTON_MIDDLE ? VMMOUSE_MIDDLE_BUTTON : 0);
}

static int32_t clamp_wheel(int dz)
{
	return dz < -127 ? -127 : dz > 127 ? 127 : dz;
}

/* Queues one event; the caller wakes the driver afterwards. */
static bool queue_event(struct vmmouse *v, uint32_t flags, uint32_t x, uint32_t y, int dz)
{
	if (v->count > QUEUE_WORDS - EVENT_WORDS) {
		v->dropped++;
		return false;
	}
	push(v, flags);
	push(v, x);
	push(v, y);
	push(v, (uint32_t)clamp_wheel(dz));
	return true;
}

static void pointer_abs(void *opaque, unsigned x, unsigned y, int dz, unsigned buttons)
{
	struct vmmouse *v = opaque;
	pthread_mutex_lock(&v->lock);
	bool queued = v->status == STATUS_OK && v->absolute &&
		      queue_event(v, buttons_word(buttons), x & 0xffff, y & 0xffff, dz);
	pthread_mutex_unlock(&v->lock);
	if (queued)
		i8042_mouse_wake(v->kbc);
}

/* Relative motion: into the queue while the guest asked for relative
 * vmmouse packets (y grows upwards there, as Linux's driver reads them);
 * otherwise it is the PS/2 mouse's, since on VMware the vmmouse is a mode
 * of that mouse. */
static void pointer_rel(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
	struct vmmouse *v = opaque;
	pthread_mutex_lock(&v->lock);
	bool mine = v->status == STATUS_OK && !v->absolute;
	bool queued =
	    mine && queue_event(v, VMMOUSE_RELATIVE_PACKET | buttons_word(buttons), (uint32_t)dx,
				(uint32_t)(dy == INT32_MIN ? INT32_MAX : -dy), dz);
	pthread_mutex_unlock(&v->lock);
	if (queued)
		i8042_mouse_wake(v->kbc);
	else if (!mine)
		i8042_mouse_event(v->kbc, dx, dy, dz, buttons & 7);
}

static bool pointer_abs_active(void *opaque)
{
	return vmmouse_absolute(opaque);
}

bool vmmouse_absolute(void *vm)
{
	struct vmmouse *v = vm;
	pthread_mutex_lock(&v->lock);
	bool on = v->status == STATUS_OK && v->absolute;
	pthread_mutex_unlock(&v->lock);
	return on;
}

/* ---- device model ---- */

static int vmmouse_create(struct machine *m, const char *id, const struct devargs *args,
			  void **state)
{
	static const char *const known[] = {"i8042", NULL};
	int r = devargs_check_keys(args, "vmmouse", known);
	if (r < 0)
		return r;
	const char *kbc_id = devargs_get(args, "i8042");
	if (!kbc_id)
		kbc_id = "i8042";
	void *kbc = machine_device(m, kbc_id);
	if (!kbc) {
		log_error("vmmouse: no i8042 device '%s' for its mouse: create the i8042 first",
			  kbc_id);
		return -ENODEV;
	}
	struct vmmouse *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->m = m;
	v->kbc = kbc;
	pthread_mutex_init(&v->lock, NULL);
	power_on(v);
	r = bus_register(m->pio, VMPORT_PORT, 4, &port_ops, v, "vmmouse");
	if (r < 0) {
		log_error("vmmouse: cannot claim the backdoor port 0x%x: %s", VMPORT_PORT,
			  strerror(-r));
		goto err_free;
	}
	v->input = (struct input_pointer){
	    .rel = pointer_rel,
	    .abs = pointer_abs,
	    .abs_active = pointer_abs_active,
	    .opaque = v,
	};
	r = input_add_pointer(m, &v->input);
	if (r < 0) {
		log_error("vmmouse: cannot register the pointer for input: %s", strerror(-r));
		bus_unregister(m->pio, VMPORT_PORT, v);
		goto err_free;
	}
	*state = v;
	return 0;

err_free:
	pthread_mutex_destroy(&v->lock);
	free(v);
	return r;
}

static void vmmouse_reset(void *state)
{
	struct vmmouse *v = state;
	pthread_mutex_lock(&v->lock);
	power_on(v);
	pthread_mutex_unlock(&v->lock);
}

/* Saved state: the queue (little-endian words, oldest first), the status
 * and the mode. */
static void vmmouse_save(void *state, struct vmstate_out *out)
{
	struct vmmouse *v = state;
	uint8_t buf[QUEUE_WORDS * 4];
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < v->count; i++) {
		uint32_t w = v->queue[(v->head + i) % QUEUE_WORDS];
		for (unsigned b = 0; b < 4; b++)
			buf[4 * i + b] = (uint8_t)(w >> (8 * b));
	}
	vmstate_put_bytes(out, "queue", buf, (size_t)v->count * 4);
	vmstate_put_bool(out, "enabled", v->status == STATUS_OK);
	vmstate_put_bool(out, "absolute", v->absolute);
	vmstate_put_u64(out, "dropped", v->dropped);
	pthread_mutex_unlock(&v->lock);
}

static int vmmouse_load(void *state, struct vmstate_section *in)
{
	struct vmmouse *v = state;
	bool enabled, absolute;
	uint64_t dropped;
	size_t len;
	int r;
	const uint8_t *q = vmstate_get_blob(in, "queue", QUEUE_WORDS * 4, &len);
	if (!q)
		return -EINVAL;
	if ((r = vmstate_get_bool(in, "enabled", &enabled)) < 0 ||
	    (r = vmstate_get_bool(in, "absolute", &absolute)) < 0 ||
	    (r = vmstate_get_u64(in, "dropped", UINT64_MAX, &dropped)) < 0)
		return r;
	if (len % 4)
		return vmstate_fail(in, "queue: %zu bytes is not a number of words", len);
	pthread_mutex_lock(&v->lock);
	v->head = 0;
	v->count = (unsigned)(len / 4);
	for (unsigned i = 0; i < v->count; i++)
		v->queue[i] = (uint32_t)q[4 * i] | (uint32_t)q[4 * i + 1] << 8 |
			      (uint32_t)q[4 * i + 2] << 16 | (uint32_t)q[4 * i + 3] << 24;
	v->status = enabled ? STATUS_OK : STATUS_ERROR;
	v->absolute = absolute;
	v->dropped = dropped;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

static void vmmouse_destroy(void *state)
{
	struct vmmouse *v = state;
	input_remove_pointer(v->m, &v->input);
	bus_unregister(v->m->pio, VMPORT_PORT, v);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

static const struct device_model vmmouse_model = {
    .name = "vmmouse",
    .description = "VMware absolute pointer on the backdoor port 0x5658, beside the i8042's "
		   "PS/2 mouse (i8042=ID)",
    .create = vmmouse_create,
    .reset = vmmouse_reset,
    .destroy = vmmouse_destroy,
    .state_version = 1,
    .save = vmmouse_save,
    .load = vmmouse_load,
};
DEVICE_MODEL(vmmouse_model);
