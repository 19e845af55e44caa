/* serial: the COM1 16550A from inside a VM (PC16550D datasheet): registers,
 * FIFOs and loopback, then a line read by polling and one through RX
 * interrupts whose reply goes out through THRE interrupts. */
#include "../lib/format.h"
#include "../lib/idt.h"
#include "../lib/io.h"
#include "../lib/pic.h"
#include "../lib/str.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"

#define LINE_MAX	 80
#define INPUT_TIMEOUT_MS 30000

static u8 rd(u8 reg)
{
	return inb(COM1_BASE + reg);
}

static void wr(u8 reg, u8 v)
{
	outb(COM1_BASE + reg, v);
}

/* Checks made while the console cannot print (loopback, odd line
 * settings), reported once it can again. */
struct deferred {
	bool ok;
	char msg[96];
};

static struct deferred deferred[40];
static unsigned nr_deferred;

static void defer(bool ok, const char *fmt, ...) printf_like(2, 3);

static void defer(bool ok, const char *fmt, ...)
{
	va_list ap;
	struct deferred *d;

	if (nr_deferred == ARRAY_SIZE(deferred)) {
		test_failures++;
		return;
	}
	d = &deferred[nr_deferred++];
	d->ok = ok;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
}

static void report_deferred(void)
{
	if (nr_deferred == ARRAY_SIZE(deferred))
		printf("FAIL: more deferred checks than room for them\n");
	for (unsigned i = 0; i < nr_deferred; i++)
		check(deferred[i].ok, "%s", deferred[i].msg);
}

static bool wait_lsr(u8 bits, u32 ms)
{
	struct timeout t;

	timeout_start(&t, ms);
	while ((rd(UART_LSR) & bits) != bits)
		if (timeout_expired(&t))
			return false;
	return true;
}

static void set_divisor(u16 div)
{
	wr(UART_LCR, LCR_DLAB | LCR_8N1);
	wr(UART_DLL, div & 0xff);
	wr(UART_DLM, div >> 8);
	wr(UART_LCR, LCR_8N1);
}

static void drain_rx(void)
{
	for (int i = 0; i < 64 && (rd(UART_LSR) & LSR_DR); i++)
		rd(UART_RBR);
}

static void registers(void)
{
	u8 a, b, iir;

	wr(UART_SCR, 0x55);
	a = rd(UART_SCR);
	wr(UART_SCR, 0xaa);
	b = rd(UART_SCR);
	defer(a == 0x55 && b == 0xaa, "scratch register holds 0x55 and 0xaa (read 0x%02x 0x%02x)",
	      a, b);

	wr(UART_LCR, LCR_DLAB | LCR_8N1);
	wr(UART_DLL, 0x34);
	wr(UART_DLM, 0x12);
	a = rd(UART_DLL);
	b = rd(UART_DLM);
	wr(UART_LCR, LCR_8N1);
	defer(a == 0x34 && b == 0x12, "divisor latch reads back 0x1234 with DLAB set (0x%02x%02x)",
	      b, a);
	a = rd(UART_IER);
	defer(a == 0, "IER (0x00) is back in place with DLAB clear (read 0x%02x)", a);
	set_divisor(1);

	wr(UART_LCR, 0x1b); /* 8 bits, 1 stop bit, even parity */
	a = rd(UART_LCR);
	wr(UART_LCR, LCR_8N1);
	defer(a == 0x1b, "LCR reads back 0x1b (read 0x%02x)", a);

	wr(UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	a = rd(UART_MCR);
	wr(UART_MCR, MCR_DTR | MCR_RTS);
	defer(a == 0x0b, "MCR reads back 0x0b (read 0x%02x)", a);

	wr(UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
	iir = rd(UART_IIR);
	defer((iir & IIR_FIFO) == IIR_FIFO && (iir & IIR_NONE),
	      "IIR 0x%02x: FIFOs enabled (bits 7-6 = 11), no interrupt pending", iir);
	wr(UART_FCR, 0);
	iir = rd(UART_IIR);
	defer((iir & IIR_FIFO) == 0, "IIR 0x%02x: FIFOs disabled (bits 7-6 = 00)", iir);
	wr(UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
}

static void modem_mirror(void)
{
	static const struct {
		u8 mcr, msr;
		const char *what;
	} lines[] = {
	    {0, 0, "nothing"},
	    {MCR_DTR, MSR_DSR, "DTR -> DSR"},
	    {MCR_RTS, MSR_CTS, "RTS -> CTS"},
	    {MCR_OUT1, MSR_RI, "OUT1 -> RI"},
	    {MCR_OUT2, MSR_DCD, "OUT2 -> DCD"},
	    {0x0f, 0xf0, "all four"},
	};

	for (unsigned i = 0; i < ARRAY_SIZE(lines); i++) {
		u8 msr;

		wr(UART_MCR, MCR_LOOP | lines[i].mcr);
		msr = rd(UART_MSR) & 0xf0;
		defer(msr == lines[i].msr,
		      "loopback mirrors %s: MCR 0x%02x gives MSR 0x%02x (read 0x%02x)",
		      lines[i].what, MCR_LOOP | lines[i].mcr, lines[i].msr, msr);
	}
	wr(UART_MCR, MCR_LOOP);
}

static void loop_bytes(void)
{
	u8 got[16];
	unsigned n = 0;
	bool ok;

	wr(UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
	drain_rx();
	wr(UART_THR, 0x5a);
	ok = wait_lsr(LSR_DR, 1000);
	got[0] = rd(UART_RBR);
	defer(ok && got[0] == 0x5a, "loopback: 0x5a came back through the FIFO (read 0x%02x)",
	      got[0]);
	defer(!(rd(UART_LSR) & LSR_DR), "loopback: LSR.DR clears once the byte is read");

	for (unsigned i = 0; i < 16; i++)
		wr(UART_THR, (u8)('A' + i));
	ok = wait_lsr(LSR_TEMT, 1000);
	while (n < 16 && (rd(UART_LSR) & LSR_DR)) {
		got[n] = rd(UART_RBR);
		if (got[n] != 'A' + n)
			break;
		n++;
	}
	defer(ok && n == 16, "loopback: 16 bytes (a full FIFO) came back in order (%u did)", n);
}

static void trigger_levels(void)
{
	static const struct {
		u8 fcr;
		unsigned level;
	} levels[] = {
	    {FCR_TRIG_1, 1},
	    {FCR_TRIG_4, 4},
	    {FCR_TRIG_8, 8},
	    {FCR_TRIG_14, 14},
	};

	/* 3.5 baud: four character times (the timeout interrupt) take ~11 s,
	 * so only the trigger level can raise the data interrupt here. */
	set_divisor(0x8000);
	wr(UART_IER, IER_RDA);
	for (unsigned i = 0; i < ARRAY_SIZE(levels); i++) {
		unsigned level = levels[i].level;
		u8 below, at, after;
		bool ok;

		wr(UART_FCR, levels[i].fcr | FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
		for (unsigned k = 0; k + 1 < level; k++)
			wr(UART_THR, (u8)k);
		ok = wait_lsr(LSR_TEMT, 1000);
		below = rd(UART_IIR);
		wr(UART_THR, 0xee);
		ok = wait_lsr(LSR_TEMT, 1000) && ok;
		at = rd(UART_IIR);
		drain_rx();
		after = rd(UART_IIR);
		defer(
		    ok && below == 0xc1 && at == 0xc4 && after == 0xc1,
		    "loopback: trigger level %u: IIR 0x%02x with %u bytes, 0x%02x with %u, 0x%02x "
		    "drained",
		    level, below, level - 1, at, level, after);
	}

	/* 9600 baud: the character timeout comes after ~4 ms. */
	set_divisor(12);
	wr(UART_FCR, FCR_TRIG_4 | FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
	wr(UART_THR, 0x11);
	wr(UART_THR, 0x22);
	{
		struct timeout t;
		u8 iir;

		timeout_start(&t, 2000);
		do
			iir = rd(UART_IIR);
		while ((iir & 0x0f) != IIR_CTI && !timeout_expired(&t));
		defer((iir & 0x0f) == IIR_CTI,
		      "loopback: 2 bytes below trigger level 4 give the timeout interrupt (IIR "
		      "0x%02x)",
		      iir);
		drain_rx();
		iir = rd(UART_IIR);
		defer(iir == 0xc1, "reading the data clears the timeout interrupt (IIR 0x%02x)",
		      iir);
	}
	wr(UART_IER, 0);
}

static void uart_checks(void)
{
	console_flush();
	wr(UART_IER, 0);
	registers();
	modem_mirror();
	loop_bytes();
	trigger_levels();

	/* Back to the console's settings. */
	wr(UART_IER, 0);
	set_divisor(1);
	wr(UART_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
	wr(UART_MCR, MCR_DTR | MCR_RTS);
	drain_rx();
	rd(UART_LSR);
	rd(UART_MSR);
	rd(UART_IIR);
	report_deferred();
}

static void describe(const char *what, const char *line, unsigned len, const char *shown)
{
	u32 sum = 0;

	for (unsigned i = 0; i < len; i++)
		sum += (u8)line[i];
	printf("%s: got %u bytes, sum 0x%04x, %s\n", what, len, sum, shown);
}

static void polled_line(void)
{
	char line[LINE_MAX + 1], upper[LINE_MAX + 12];
	unsigned n = 0;
	bool complete = false, timed_out = false;
	u8 errors = 0;
	struct timeout t;

	printf("input: send a line (read by polling LSR.DR)\n");
	timeout_start(&t, INPUT_TIMEOUT_MS);
	while (!complete && n < LINE_MAX) {
		u8 lsr = rd(UART_LSR), c;

		errors |= lsr & 0x1e;
		if (!(lsr & LSR_DR)) {
			if (timeout_expired(&t)) {
				timed_out = true;
				break;
			}
			continue;
		}
		c = rd(UART_RBR);
		if (c == '\r')
			continue;
		if (c == '\n')
			complete = true;
		else
			line[n++] = (char)c;
	}
	line[n] = '\0';
	check(complete, "line 1 arrived by polling within %u s%s", INPUT_TIMEOUT_MS / 1000,
	      timed_out ? " (timed out)" : "");
	check(errors == 0, "no overrun, parity, framing or break errors in LSR (0x%02x)", errors);
	strlcpy(upper, "upper ", sizeof(upper));
	for (unsigned i = 0; i < n; i++)
		upper[6 + i] = toupper(line[i]);
	upper[6 + n] = '\0';
	describe("line 1", line, n, upper);
}

/* The interrupt-driven part: state shared with the IRQ 4 handler. */
static char rx_line[LINE_MAX + 1];
static volatile unsigned rx_len;
static volatile bool rx_done;
static const char *volatile tx_next;
static volatile unsigned tx_left;
static volatile u32 irq_rx, irq_cti, irq_thre, irq_other;
static volatile u8 rx_errors;

static void uart_irq(unsigned irq)
{
	(void)irq;
	for (int rounds = 0; rounds < 64; rounds++) {
		u8 iir = rd(UART_IIR);

		if (iir & IIR_NONE)
			break;
		switch (iir & IIR_ID_MASK) {
		case IIR_RLS:
			rx_errors |= rd(UART_LSR) & 0x1e;
			irq_other++;
			break;
		case IIR_RDA:
		case IIR_CTI:
			if ((iir & IIR_ID_MASK) == IIR_CTI)
				irq_cti++;
			else
				irq_rx++;
			while (rd(UART_LSR) & LSR_DR) {
				u8 c = rd(UART_RBR);

				if (rx_done || c == '\r')
					continue;
				if (c == '\n' || rx_len == LINE_MAX)
					rx_done = true;
				else
					rx_line[rx_len++] = (char)c;
			}
			break;
		case IIR_THRE:
			irq_thre++;
			for (int i = 0; i < 16 && tx_left; i++) {
				wr(UART_THR, (u8)*tx_next);
				tx_next++;
				tx_left--;
			}
			if (!tx_left)
				wr(UART_IER, rd(UART_IER) & ~IER_THRE);
			break;
		default:
			rd(UART_MSR);
			irq_other++;
			break;
		}
	}
}

/* Halts until *flag is set (with flag NULL: until *left is 0) or pit_ticks
 * reaches max_ticks; the IRQ 0 ticks wake the CPU to look. */
static bool wait_irq(volatile bool *flag, volatile unsigned *left, u32 max_ticks)
{
	cli();
	while (!(flag ? *flag : *left == 0) && pit_ticks < max_ticks) {
		sti_hlt();
		cli();
	}
	sti();
	return flag ? *flag : *left == 0;
}

static void interrupt_line(void)
{
	static char reply[LINE_MAX + 64];
	char reversed[LINE_MAX + 12];
	u32 sum = 0;
	unsigned n;
	bool got, sent;

	irq_set_handler(COM1_IRQ, uart_irq);
	wr(UART_FCR, FCR_TRIG_4 | FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
	drain_rx();
	rd(UART_LSR);
	wr(UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	wr(UART_IER, IER_RDA | IER_RLS);
	pic_unmask(COM1_IRQ);
	pit_ticks_start(100);
	sti();

	printf("input: send a line (read through RX interrupts on IRQ %u)\n", COM1_IRQ);
	got = wait_irq(&rx_done, NULL, INPUT_TIMEOUT_MS / 10);
	n = rx_len;
	rx_line[n] = '\0';
	for (unsigned i = 0; i < n; i++) {
		sum += (u8)rx_line[i];
		reversed[9 + n - 1 - i] = rx_line[i];
	}
	memcpy(reversed, "reversed ", 9);
	reversed[9 + n] = '\0';
	snprintf(reply, sizeof(reply), "line 2: got %u bytes, sum 0x%04x, %s\r\n", n, sum,
		 reversed);

	/* The reply goes out from the THRE interrupt handler. */
	console_flush();
	tx_next = reply;
	tx_left = strlen(reply);
	pit_ticks = 0;
	wr(UART_IER, IER_RDA | IER_RLS | IER_THRE);
	sent = wait_irq(NULL, &tx_left, 1000);
	console_flush();

	cli();
	wr(UART_IER, 0);
	wr(UART_MCR, MCR_DTR | MCR_RTS);
	pic_mask(COM1_IRQ);
	pit_ticks_stop();
	sti();

	check(got, "line 2 arrived through RX interrupts within %u s", INPUT_TIMEOUT_MS / 1000);
	check(irq_rx + irq_cti > 0, "received-data or timeout interrupts raised IRQ %u", COM1_IRQ);
	check(rx_errors == 0, "no receiver line status errors (0x%02x)", rx_errors);
	check(sent && irq_thre > 0, "THRE interrupts sent the %u-byte reply", strlen(reply));
	printf("peer: IRQ 4 causes: %u data, %u timeout, %u THRE, %u other\n", irq_rx, irq_cti,
	       irq_thre, irq_other);
}

void test_main(void)
{
	printf("serial: 16550A on COM1 (port 0x%x, IRQ %u)\n", COM1_BASE, COM1_IRQ);
	uart_checks();
	polled_line();
	interrupt_line();
}
