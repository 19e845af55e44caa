/* Saved state of the 16550A UART: every register, both FIFOs in order with
 * their error bits, the pending interrupts in priority order, the character
 * timeout still running; a paused UART lets no timeout fire; damaged states
 * are refused. */
#include "devices/uart16550.h"
#include "tests/devices/chipset_state.h"

#define COM1 0x3f8
#define IRQ  4

static uint8_t reg(struct harness *h, unsigned r)
{
	return hinb(h, (uint16_t)(COM1 + r));
}

static void set(struct harness *h, unsigned r, uint8_t v)
{
	houtb(h, (uint16_t)(COM1 + r), v);
}

static void build(struct harness *h)
{
	harness_init(h, 1 << 20);
	harness_add(h, "uart16550", "com1", "base=0x3f8,irq=4,backend=none,name=COM1");
}

/* 115200 8N1, FIFOs with trigger level 8, all interrupts but the modem's,
 * loopback with OUT2: "hello" and a break sent to ourselves, below the
 * trigger level so that the character timeout is running. */
static void drive(struct harness *h)
{
	set(h, UART_LCR, UART_LCR_DLAB);
	set(h, UART_DLL, 1);
	set(h, UART_DLM, 0);
	set(h, UART_LCR, 0x03);
	set(h, UART_FCR, UART_FCR_ENABLE | UART_FCR_TRIGGER_8);
	set(h, UART_IER, UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI);
	set(h, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS | UART_MCR_DTR);
	set(h, UART_SCR, 0x5a);
	for (const char *p = "hello"; *p; p++)
		set(h, UART_THR, (uint8_t)*p);
	set(h, UART_LCR, 0x03 | UART_LCR_SBC);
	set(h, UART_LCR, 0x03);
}

struct seen {
	uint8_t v[48];
	bool irq[48];
	unsigned n;
};

static void note(struct harness *h, struct seen *s, uint8_t v)
{
	assert_true(s->n < 48);
	s->irq[s->n] = h->irq_level[IRQ];
	s->v[s->n++] = v;
}

/* What a driver sees from here: the interrupt identification and line
 * status, then (after the timeout) the characters, and the other
 * registers. */
static void drain(struct harness *h, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	note(h, s, reg(h, UART_IIR));
	note(h, s, reg(h, UART_LSR));
	note(h, s, reg(h, UART_IIR));
	harness_run(h, 5);
	note(h, s, reg(h, UART_IIR));
	for (int i = 0; i < 6; i++) {
		note(h, s, reg(h, UART_LSR));
		note(h, s, reg(h, UART_RBR));
	}
	note(h, s, reg(h, UART_LSR));
	note(h, s, reg(h, UART_IIR));
	note(h, s, reg(h, UART_IIR));
	note(h, s, reg(h, UART_MSR));
	note(h, s, reg(h, UART_SCR));
	note(h, s, reg(h, UART_MCR));
	note(h, s, reg(h, UART_IER));
	set(h, UART_LCR, 0x83);
	note(h, s, reg(h, UART_DLL));
	note(h, s, reg(h, UART_DLM));
}

static void test_round_trip(void **state)
{
	struct harness *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct seen before, after;
	build(a);
	drive(a);
	struct saved s;
	state_save(a, &s);
	drain(a, &before);
	harness_fini(a);

	state_build_load(b, build, &s);
	assert_true(b->irq_level[IRQ]);
	drain(b, &after);
	/* What the saved UART showed: THRE (the loopback took the bytes),
	 * the timeout, "hello", then the break (BI) and its zero. */
	assert_int_equal(before.v[0], 0xc0 | UART_IIR_THRI);
	assert_int_equal(before.v[3], 0xc0 | UART_IIR_CTI);
	assert_int_equal(before.v[5], 'h');
	assert_int_equal(before.v[13], 'o');
	assert_int_equal(before.v[14] & UART_LSR_BI, UART_LSR_BI);
	assert_int_equal(before.v[15], 0);
	assert_int_equal(after.n, before.n);
	assert_memory_equal(after.v, before.v, sizeof(before.v));
	assert_memory_equal(after.irq, before.irq, sizeof(before.irq));
	harness_fini(b);
	state_free(&s);
	free(a);
	free(b);
}

static void test_paused(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	build(h);
	drive(h);
	machine_pause_devices(&h->m, true);
	harness_run(h, 5);
	assert_int_not_equal(reg(h, UART_IIR), 0xc0 | UART_IIR_CTI);
	/* Saved while paused: the timeout still runs after the load. */
	struct saved s;
	state_save(h, &s);
	machine_pause_devices(&h->m, false);
	harness_run(h, 5);
	assert_int_equal(reg(h, UART_IIR), 0xc0 | UART_IIR_CTI);
	assert_true(h->irq_level[IRQ]);
	harness_fini(h);
	state_build_load(h, build, &s);
	harness_run(h, 5);
	assert_int_equal(reg(h, UART_IIR), 0xc0 | UART_IIR_CTI);
	harness_fini(h);
	state_free(&s);
	free(h);
}

static void test_refused(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	build(h);
	drive(h);
	struct saved s, bad;
	state_save(h, &s);
	harness_fini(h);
	static const struct state_refusal cases[] = {
	    {"com1", "ier", 0x10, "above its largest value"},
	    {"com1", "mcr", 0x20, "above its largest value"},
	    {"com1", "fcr", UART_FCR_CLEAR_RCVR | UART_FCR_ENABLE, "not a FIFO mode"},
	    {"com1", "fcr", UART_FCR_TRIGGER_8, "not a FIFO mode"},
	    {"com1", "lsr_err", UART_LSR_DR, "no errors"},
	    {"com1", "msr_delta", 0x10, "above its largest value"},
	    {"com1", "timeout_ns", 1000000000, "longer than four characters"},
	    {"com1", "divisor", 0x10000, "above its largest value"},
	};
	state_expect_refusals(h, build, &s, cases, sizeof(cases) / sizeof(cases[0]));
	static const struct {
		const char *field;
		const char *data;
		size_t len;
		const char *why;
	} blobs[] = {
	    {"rx", "0123456789abcdefg", 17, "largest"},
	    {"rx_err", "\0\0", 2, "2 entries for 6 characters"},
	    {"rx_err", "\0\0\0\0\0\x01", 6, "no character error"},
	};
	for (size_t i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++) {
		build(h);
		state_edit(&s, "com1", blobs[i].field, blobs[i].data, blobs[i].len, &bad);
		state_load_fails(h, &bad, blobs[i].why);
		state_free(&bad);
		harness_fini(h);
	}
	/* A FIFO's worth in 16450 mode (FIFOs off), and a timeout without
	 * FIFO data. */
	struct saved mid;
	state_edit_u64(&s, "com1", "fcr", 0, &mid);
	build(h);
	state_load_fails(h, &mid, "the FIFO holds 1");
	harness_fini(h);
	state_free(&mid);
	state_edit(&s, "com1", "rx", "", 0, &mid);
	state_edit(&mid, "com1", "rx_err", "", 0, &bad);
	build(h);
	state_load_fails(h, &bad, "a character timeout with no FIFO data");
	harness_fini(h);
	state_free(&bad);
	state_free(&mid);
	state_free(&s);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_paused),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
