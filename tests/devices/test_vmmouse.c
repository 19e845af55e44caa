/* vmmouse on the VMware backdoor, driven the way Linux's psmouse vmmouse driver does it
 * (drivers/input/mouse/vmmouse.c: detect, enable, report events, disable), with the
 * registers of the IN instruction provided through exit_regs_provide as a vCPU would; the
 * queue and status semantics of QEMU's model (reads past the queue, a full queue, relative
 * packets, reset); the PS/2 wake packets and IRQ 12; the router's choice of absolute or
 * relative device. */
#include "devices/vmmouse.h"
#include "hypervisor/exitregs.h"
#include "hypervisor/input.h"
#include "tests/devices/i8042_driver.h"

#include <errno.h>
#include <string.h>

#define RESTRICT_CMD  86 /* ABSPOINTER_RESTRICT: Linux sends it; neither QEMU nor we know it */
#define RESTRICT_CPL0 0x01

static void *vm;

/* ---- the vCPU's registers ---- */

static struct exit_regs regs;
static unsigned sets;

static bool regs_get(void *opaque, struct exit_regs *r)
{
	*r = regs;
	return true;
}

static bool regs_set(void *opaque, const struct exit_regs *r)
{
	regs = *r;
	sets++;
	return true;
}

static const struct exit_regs_provider provider = {regs_get, regs_set, NULL};

static int setup(void **state)
{
	kbc_setup(state);
	harness_add(&h, "vmmouse", "vmmouse", "i8042=kbc");
	vm = machine_device(&h.m, "vmmouse");
	assert_non_null(vm);
	exit_regs_provide(&provider);
	return 0;
}

static int teardown(void **state)
{
	exit_regs_provide(NULL);
	return kbc_teardown(state);
}

struct out {
	uint32_t eax, ebx, ecx, edx, esi, edi;
};

/* VMMOUSE_CMD(cmd, in1, ...): "inl %dx" with EAX = magic, EBX = in1, ECX = cmd, EDX = port;
 * ESI and EDI hold what the caller had there. As for a real IN, EAX afterwards is what
 * the access returned. */
static struct out backdoor_magic(uint32_t magic, uint32_t cmd, uint32_t in1)
{
	regs = (struct exit_regs){.rax = magic,
				  .rbx = in1,
				  .rcx = cmd,
				  .rdx = VMPORT_PORT,
				  .rsi = 0x5151,
				  .rdi = 0xd1d1,
				  .rbp = 0xb0b0};
	uint32_t eax = hinl(&h, VMPORT_PORT);
	regs.rax = eax;
	assert_int_equal(regs.rbp, 0xb0b0);
	return (struct out){eax,
			    (uint32_t)regs.rbx,
			    (uint32_t)regs.rcx,
			    (uint32_t)regs.rdx,
			    (uint32_t)regs.rsi,
			    (uint32_t)regs.rdi};
}

static struct out backdoor(uint32_t cmd, uint32_t in1)
{
	return backdoor_magic(VMPORT_MAGIC, cmd, in1);
}

static uint32_t pointer_status(void)
{
	return backdoor(VMPORT_CMD_ABSPOINTER_STATUS, 0).eax;
}

/* ---- the Linux driver's steps ---- */

/* vmmouse_detect(): GETVERSION must answer the magic in EBX and a version. */
static bool linux_detect(void)
{
	struct out o = backdoor(VMPORT_CMD_GETVERSION, ~VMPORT_MAGIC);
	return o.ebx == VMPORT_MAGIC && o.eax != 0xffffffffu;
}

/* vmmouse_enable(): ENABLE, a non-empty queue, the version word, RESTRICT, absolute. */
static int linux_enable(void)
{
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_ENABLE);
	if ((pointer_status() & 0xffff) == 0)
		return -ENXIO;
	if (backdoor(VMPORT_CMD_ABSPOINTER_DATA, 1).eax != VMMOUSE_VERSION_ID)
		return -ENXIO;
	backdoor(RESTRICT_CMD, RESTRICT_CPL0);
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_REQUEST_ABSOLUTE);
	return 0;
}

/* vmmouse_disable(): DISABLE, and the status must read as the error. */
static bool linux_disable(void)
{
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_DISABLE);
	return (pointer_status() & VMMOUSE_ERROR) == VMMOUSE_ERROR;
}

/* psmouse_reset() then reporting on: the PS/2 side of the driver. */
static void ps2_mouse_on(void)
{
	write_ctr(CTR_AUXINT | CTR_KBDINT | CTR_XLATE);
	aux_cmd(0xff);
	EXPECT_AUX(0xfa, 0xaa, 0x00);
	aux_ack(0xf4);
}

struct event {
	uint32_t status, x, y, z;
};

/* vmmouse_report_events(): up to `max` events while the queue has some. Returns how many,
 * or -1 on the error the driver reports as bad data. */
static int linux_report(struct event *ev, int max)
{
	int n = 0;
	while (n < max) {
		uint32_t st = pointer_status();
		if ((st & VMMOUSE_ERROR) == VMMOUSE_ERROR)
			return -1;
		if ((st & 0xffff) == 0)
			break;
		if ((st & 0xffff) % 4)
			return -1;
		struct out o = backdoor(VMPORT_CMD_ABSPOINTER_DATA, 4);
		ev[n++] = (struct event){o.eax, o.ebx, o.ecx, o.edx};
	}
	return n;
}

/* ---- tests ---- */

static void test_probe(void **state)
{
	assert_true(linux_detect());
	struct out o = backdoor(VMPORT_CMD_GETVERSION, 0);
	assert_int_equal(o.eax, 6);
	assert_int_equal(o.ebx, VMPORT_MAGIC);
	assert_int_equal(o.ecx, 2);
	assert_int_equal(o.edx, VMPORT_PORT); /* untouched */
	assert_int_equal(o.esi, 0x5151);

	/* Without the magic the backdoor is closed: all ones, registers kept. */
	sets = 0;
	o = backdoor_magic(0x12345678, VMPORT_CMD_GETVERSION, 77);
	assert_int_equal(o.eax, 0xffffffffu);
	assert_int_equal(o.ebx, 77);
	assert_int_equal(sets, 0);
	/* Commands it does not offer: all ones in EAX. */
	assert_int_equal(backdoor(RESTRICT_CMD, RESTRICT_CPL0).eax, 0xffffffffu);
	assert_int_equal(backdoor(0xffff, 0).eax, 0xffffffffu);
	assert_int_equal(backdoor(20 /* GETRAMSIZE */, 0).eax, 0xffffffffu);
	/* The command is CX: a high half in ECX does not change it. */
	assert_int_equal(backdoor(0xabcd0000u | VMPORT_CMD_GETVERSION, 0).ebx, VMPORT_MAGIC);

	/* Byte and word accesses, other offsets: an empty port, no command. */
	regs = (struct exit_regs){
	    .rax = VMPORT_MAGIC, .rcx = VMPORT_CMD_ABSPOINTER_COMMAND, .rbx = VMMOUSE_CMD_ENABLE};
	assert_int_equal(hinb(&h, VMPORT_PORT), 0xff);
	assert_int_equal(hinw(&h, VMPORT_PORT), 0xffff);
	assert_int_equal(hinb(&h, VMPORT_PORT + 1), 0xff);
	assert_int_equal(hinw(&h, VMPORT_PORT + 2), 0xffff);
	houtb(&h, VMPORT_PORT, 0);
	assert_int_equal(pointer_status(), VMMOUSE_ERROR); /* still disabled, empty */

	/* Not on a vCPU (no registers to read): nothing happens. */
	exit_regs_provide(NULL);
	assert_int_equal(hinl(&h, VMPORT_PORT), 0xffffffffu);
	exit_regs_provide(&provider);
	assert_int_equal(pointer_status(), VMMOUSE_ERROR);
}

static void test_linux_driver(void **state)
{
	assert_true(linux_detect());
	assert_false(vmmouse_absolute(vm));
	ps2_mouse_on();
	assert_int_equal(linux_enable(), 0);
	assert_true(vmmouse_absolute(vm));
	assert_int_equal(pointer_status(), 0); /* enabled, empty */

	/* One viewer event: a wake packet on the PS/2 channel with IRQ 12, and the event in
	 * the queue. */
	unsigned raised = h.irq_raised[IRQ_MOUSE];
	input_pointer_abs(&h.m, 320, 240, 640, 480, 0, INPUT_BUTTON_LEFT);
	assert_int_equal(h.irq_raised[IRQ_MOUSE], raised + 1);
	EXPECT_AUX(0x08, 0x00, 0x00);
	expect_empty();
	assert_int_equal(pointer_status(), 4);
	struct event ev[8];
	assert_int_equal(linux_report(ev, 8), 1);
	assert_int_equal(ev[0].status, VMMOUSE_LEFT_BUTTON);
	assert_int_equal(ev[0].x, 320u * 0xffff / 639);
	assert_int_equal(ev[0].y, 240u * 0xffff / 479);
	assert_int_equal(ev[0].z, 0);

	/* The corners and all three buttons, and the wheel (the driver reads it as a signed
	 * byte: positive is towards the user). */
	input_pointer_abs(&h.m, 0, 0, 1024, 768, 0, 0);
	input_pointer_abs(&h.m, 1023, 767, 1024, 768, 1,
			  INPUT_BUTTON_LEFT | INPUT_BUTTON_RIGHT | INPUT_BUTTON_MIDDLE);
	input_pointer_abs(&h.m, 1023, 0, 1024, 768, -1, INPUT_BUTTON_RIGHT);
	input_pointer_abs(&h.m, 0, 767, 1024, 768, 500, INPUT_BUTTON_MIDDLE);
	for (int i = 0; i < 4; i++)
		EXPECT_AUX(0x08, 0x00, 0x00);
	expect_empty();
	assert_int_equal(linux_report(ev, 8), 4);
	static const struct event want[4] = {
	    {0, 0, 0, 0},
	    {VMMOUSE_LEFT_BUTTON | VMMOUSE_RIGHT_BUTTON | VMMOUSE_MIDDLE_BUTTON, 0xffff, 0xffff, 1},
	    {VMMOUSE_RIGHT_BUTTON, 0xffff, 0, 0xffffffffu},
	    {VMMOUSE_MIDDLE_BUTTON, 0, 0xffff, 127},
	};
	for (int i = 0; i < 4; i++) {
		if (memcmp(&ev[i], &want[i], sizeof(want[i])))
			fail_msg("event %d: %08x %u %u %08x, expected %08x %u %u %08x", i,
				 ev[i].status, ev[i].x, ev[i].y, ev[i].z, want[i].status, want[i].x,
				 want[i].y, want[i].z);
	}

	/* Several words at once: up to six, into EAX..EDI in order. */
	input_pointer_abs(&h.m, 1, 2, 3, 3, 0, 0);
	input_pointer_abs(&h.m, 2, 1, 3, 3, 0, 0);
	assert_int_equal(pointer_status(), 8);
	struct out o = backdoor(VMPORT_CMD_ABSPOINTER_DATA, 6);
	assert_int_equal(o.eax, 0);
	assert_int_equal(o.ebx, 0x7fff);
	assert_int_equal(o.ecx, 0xffff);
	assert_int_equal(o.edx, 0);
	assert_int_equal(o.esi, 0);
	assert_int_equal(o.edi, 0xffff);
	assert_int_equal(pointer_status(), 2);
	o = backdoor(VMPORT_CMD_ABSPOINTER_DATA, 2);
	assert_int_equal(o.eax, 0x7fff);
	assert_int_equal(o.ebx, 0);
	assert_int_equal(o.ecx, VMPORT_CMD_ABSPOINTER_DATA); /* not read: unchanged */
	flush();

	/* vmmouse_disable(): the status is the error; the router goes back to the PS/2
	 * mouse, which now gets relative motion. */
	assert_true(linux_disable());
	assert_false(vmmouse_absolute(vm));
	input_pointer_abs(&h.m, 10, 10, 640, 480, 0, 0);
	input_pointer_abs(&h.m, 15, 7, 640, 480, 0, INPUT_BUTTON_RIGHT);
	/* From the last position the router saw, (2, 1): 8 right, 9 down; then 5 right, 3 up
	 * with the right button. */
	EXPECT_AUX(0x28, 0x08, 0xf7);
	EXPECT_AUX(0x0a, 0x05, 0x03);
	expect_empty();
	assert_int_equal(pointer_status(), VMMOUSE_ERROR);

	/* vmmouse_reconnect(): enable again finds its version word. */
	assert_int_equal(linux_enable(), 0);
	assert_true(vmmouse_absolute(vm));
}

/* Reading more than the queue holds is the driver's mistake: the device disables
 * itself (status 0xffff) with the registers as they were; it stays so until enabled. */
static void test_reads_past_the_queue(void **state)
{
	ps2_mouse_on();
	assert_int_equal(linux_enable(), 0);
	input_pointer_abs(&h.m, 5, 5, 10, 10, 0, 0);
	flush();
	assert_int_equal(pointer_status(), 4);
	struct out o = backdoor(VMPORT_CMD_ABSPOINTER_DATA, 5);
	assert_int_equal(o.eax, VMPORT_MAGIC);
	assert_int_equal(o.ebx, 5);
	assert_int_equal(o.ecx, VMPORT_CMD_ABSPOINTER_DATA);
	assert_int_equal(pointer_status(), VMMOUSE_ERROR | 4); /* the queue is kept */
	assert_false(vmmouse_absolute(vm));
	struct event ev[2];
	assert_int_equal(linux_report(ev, 2), -1);

	/* Events while disabled are not queued (the router does not even offer them). */
	input_pointer_abs(&h.m, 1, 1, 10, 10, 0, 0);
	assert_int_equal(pointer_status(), VMMOUSE_ERROR | 4);
	/* Absolute mode can only be asked for while enabled. */
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_REQUEST_ABSOLUTE);
	assert_false(vmmouse_absolute(vm));

	/* Zero words and seven words are errors too, even with enough queued. */
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_ENABLE);
	assert_int_equal(pointer_status(), 5); /* the old event and the version */
	backdoor(VMPORT_CMD_ABSPOINTER_DATA, 0);
	assert_int_equal(pointer_status(), VMMOUSE_ERROR | 5);
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_ENABLE);
	backdoor(VMPORT_CMD_ABSPOINTER_DATA, 7);
	assert_int_equal(pointer_status(), VMMOUSE_ERROR | 6);
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_ENABLE);
	backdoor(VMPORT_CMD_ABSPOINTER_DATA, 0xffffffffu);
	assert_int_equal(pointer_status(), VMMOUSE_ERROR | 7);
	/* Enabled again: the queue reads out in order. */
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_ENABLE);
	assert_int_equal(pointer_status(), 8);
	o = backdoor(VMPORT_CMD_ABSPOINTER_DATA, 4);
	assert_int_equal(o.ebx, 5u * 0xffff / 9);
	o = backdoor(VMPORT_CMD_ABSPOINTER_DATA, 4);
	assert_int_equal(o.eax, VMMOUSE_VERSION_ID);
	assert_int_equal(o.ebx, VMMOUSE_VERSION_ID);
	assert_int_equal(o.edx, VMMOUSE_VERSION_ID);
	assert_int_equal(pointer_status(), 0);
	backdoor(VMPORT_CMD_ABSPOINTER_DATA, 1); /* empty now */
	assert_int_equal(pointer_status(), VMMOUSE_ERROR);

	/* Unknown pointer commands change nothing. */
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_ENABLE);
	backdoor(VMPORT_CMD_ABSPOINTER_DATA, 1);
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, 0x12345678);
	assert_int_equal(pointer_status(), 0);
}

/* 256 events fill the queue; more are dropped until the driver reads. */
static void test_full_queue(void **state)
{
	ps2_mouse_on();
	assert_int_equal(linux_enable(), 0);
	for (unsigned i = 0; i < 300; i++) {
		input_pointer_abs(&h.m, i, 0, 1000, 10, 0, 0);
		flush(); /* the PS/2 side keeps up */
	}
	assert_int_equal(pointer_status(), 1024);
	struct event ev[300];
	assert_int_equal(linux_report(ev, 300), 256);
	for (unsigned i = 0; i < 256; i++)
		assert_int_equal(ev[i].x, (unsigned)((uint64_t)i * 0xffff / 999));
	input_pointer_abs(&h.m, 999, 0, 1000, 10, 0, 0);
	assert_int_equal(linux_report(ev, 2), 1);
	assert_int_equal(ev[0].x, 0xffff);
	/* ENABLE with a full queue has no room for its version word. */
	for (unsigned i = 0; i < 256; i++)
		input_pointer_abs(&h.m, 1, 1, 10, 10, 0, 0);
	flush();
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_ENABLE);
	assert_int_equal(pointer_status(), 1024);
}

/* Without reporting on, the PS/2 mouse sends no wake packet (the queue still fills);
 * in remote mode neither. Pending motion goes out with the wake. */
static void test_wake_packets(void **state)
{
	write_ctr(CTR_AUXINT | CTR_KBDINT);
	assert_int_equal(linux_enable(), 0);
	unsigned raised = h.irq_raised[IRQ_MOUSE];
	input_pointer_abs(&h.m, 1, 1, 10, 10, 0, 0);
	expect_empty();
	assert_int_equal(h.irq_raised[IRQ_MOUSE], raised);
	assert_int_equal(pointer_status(), 4);
	aux_ack(0xf0); /* remote mode */
	aux_ack(0xf4);
	input_pointer_abs(&h.m, 2, 2, 10, 10, 0, 0);
	expect_empty();
	aux_ack(0xea); /* stream mode */
	input_pointer_abs(&h.m, 3, 3, 10, 10, 0, INPUT_BUTTON_MIDDLE);
	EXPECT_AUX(0x08, 0x00, 0x00);
	i8042_mouse_event(kbc, 0, 0, 0, I8042_BUTTON_LEFT); /* the PS/2 mouse's own button */
	EXPECT_AUX(0x09, 0x00, 0x00);
	i8042_mouse_wake(kbc);
	EXPECT_AUX(0x09, 0x00, 0x00);
	/* Wakes while the guest's mouse interface is off: the packets wait in the mouse. */
	cmd(0xa7);
	i8042_mouse_wake(kbc);
	i8042_mouse_wake(kbc);
	i8042_mouse_wake(kbc);
	cmd(0xa8);
	EXPECT_AUX(0x09, 0x00, 0x00);
	EXPECT_AUX(0x09, 0x00, 0x00);
	EXPECT_AUX(0x09, 0x00, 0x00);
	expect_empty();
	assert_int_equal(pointer_status(), 12);
}

/* Relative vmmouse packets: the guest asked for them, so relative motion goes into the
 * queue (flagged, y up as the driver reads it); otherwise it is the PS/2 mouse's. */
static void test_relative_mode(void **state)
{
	ps2_mouse_on();
	input_pointer_rel(&h.m, 4, -2, 0, INPUT_BUTTON_LEFT); /* vmmouse disabled */
	EXPECT_AUX(0x09, 0x04, 0x02);
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_ENABLE);
	backdoor(VMPORT_CMD_ABSPOINTER_DATA, 1);
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_REQUEST_RELATIVE);
	assert_false(vmmouse_absolute(vm));
	input_pointer_rel(&h.m, 5, 3, -1, INPUT_BUTTON_RIGHT);
	EXPECT_AUX(0x09, 0x00, 0x00); /* the wake (with the PS/2 mouse's button), no motion */
	/* An absolute event while relative: the router sends motion from the last position. */
	input_pointer_abs(&h.m, 100, 100, 640, 480, 0, 0);
	input_pointer_abs(&h.m, 90, 110, 640, 480, 0, 0);
	flush();
	struct event ev[4];
	assert_int_equal(linux_report(ev, 4), 3);
	assert_int_equal(ev[0].status, VMMOUSE_RELATIVE_PACKET | VMMOUSE_RIGHT_BUTTON);
	assert_int_equal((int32_t)ev[0].x, 5);
	assert_int_equal((int32_t)ev[0].y, -3);
	assert_int_equal((int32_t)ev[0].z, -1);
	assert_int_equal(ev[1].status, VMMOUSE_RELATIVE_PACKET);
	assert_int_equal((int32_t)ev[2].x, -10);
	assert_int_equal((int32_t)ev[2].y, -10);

	/* Absolute again. */
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_REQUEST_ABSOLUTE);
	assert_true(vmmouse_absolute(vm));
	input_pointer_abs(&h.m, 639, 0, 640, 480, 0, 0);
	flush();
	assert_int_equal(linux_report(ev, 4), 1);
	assert_int_equal(ev[0].status, 0);
	assert_int_equal(ev[0].x, 0xffff);
}

/* An OUT to the backdoor runs the command too, its result in EAX (as QEMU). */
static void test_out(void **state)
{
	regs = (struct exit_regs){.rax = VMPORT_MAGIC, .rcx = VMPORT_CMD_GETVERSION};
	houtl(&h, VMPORT_PORT, 0);
	assert_int_equal(regs.rax, 6);
	assert_int_equal(regs.rbx, VMPORT_MAGIC);
	regs = (struct exit_regs){
	    .rax = VMPORT_MAGIC, .rcx = VMPORT_CMD_ABSPOINTER_COMMAND, .rbx = VMMOUSE_CMD_ENABLE};
	houtl(&h, VMPORT_PORT, 0);
	regs = (struct exit_regs){.rax = VMPORT_MAGIC, .rcx = VMPORT_CMD_ABSPOINTER_STATUS};
	houtl(&h, VMPORT_PORT, 0);
	assert_int_equal(regs.rax, 1);
	/* The upper halves of 64-bit registers are cleared, as by a 32-bit write. */
	regs = (struct exit_regs){.rax = 0xffffffff00000000ull | VMPORT_MAGIC,
				  .rcx = VMPORT_CMD_ABSPOINTER_STATUS};
	houtl(&h, VMPORT_PORT, 0);
	assert_int_equal(regs.rax, 1);
}

/* A platform reset: disabled, empty, relative. */
static void test_reset(void **state)
{
	ps2_mouse_on();
	assert_int_equal(linux_enable(), 0);
	input_pointer_abs(&h.m, 5, 5, 10, 10, 0, 0);
	machine_reset_devices(&h.m);
	assert_false(vmmouse_absolute(vm));
	assert_int_equal(pointer_status(), VMMOUSE_ERROR);
	backdoor(VMPORT_CMD_ABSPOINTER_COMMAND, VMMOUSE_CMD_ENABLE);
	assert_int_equal(pointer_status(), 1);
	assert_false(vmmouse_absolute(vm)); /* relative until asked */
}

/* The model needs the i8042 whose mouse it wakes; a wrong name or a missing controller is
 * an error, and so are unknown arguments. */
static void test_create_errors(void **state)
{
	struct devargs a = {0};
	machine_destroy_devices(&h.m);
	assert_true(machine_add_device(&h.m, "vmmouse", "vm", &a) < 0);
	harness_add(&h, "i8042", "kbd0", NULL);
	assert_true(machine_add_device(&h.m, "vmmouse", "vm", &a) < 0);
	assert_int_equal(devargs_parse(&a, "i8042=kbd1"), 0);
	assert_true(machine_add_device(&h.m, "vmmouse", "vm", &a) < 0);
	struct devargs bad = {0};
	assert_int_equal(devargs_parse(&bad, "port=0x5658"), 0);
	assert_true(machine_add_device(&h.m, "vmmouse", "vm", &bad) < 0);
	struct devargs good = {0};
	assert_int_equal(devargs_parse(&good, "i8042=kbd0"), 0);
	assert_int_equal(machine_add_device(&h.m, "vmmouse", "vm", &good), 0);
	/* The port is taken: a second one cannot be created. */
	assert_true(machine_add_device(&h.m, "vmmouse", "vm2", &good) < 0);
	kbc = machine_device(&h.m, "kbd0");
	vm = machine_device(&h.m, "vm");
	assert_true(linux_detect());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_linux_driver, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reads_past_the_queue, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_queue, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wake_packets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_relative_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
