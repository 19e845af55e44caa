/* The bzImage test guest's C entry: runs every check on what the loader (or our own setup
 * code) handed over, prints the verdict and ends through the debug-exit port. */
#include "entry.h"
#include "guest.h"

unsigned failures;

static void line(const char *prefix, const char *fmt, va_list ap)
{
	console_puts(prefix);
	kvprintf(fmt, ap);
	console_puts("\n");
}

void pass(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line("", fmt, ap);
	va_end(ap);
}

void fail(const char *fmt, ...)
{
	va_list ap;

	failures++;
	va_start(ap, fmt);
	line("FAIL: ", fmt, ap);
	va_end(ap);
}

void peer(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line("peer: ", fmt, ap);
	va_end(ap);
}

static __attribute__((noreturn)) void finish(void)
{
	if (failures)
		kprintf("RESULT: FAIL %u\n", failures);
	else
		console_puts("RESULT: PASS\n");
	/* osio exits with this value; QEMU's isa-debug-exit with (value << 1) | 1. */
	outb(DEBUG_EXIT_PORT, failures ? 1 : 0);
	for (;;)
		__asm__ volatile("cli; hlt");
}

struct idt_gate {
	uint16_t off0;
	uint16_t sel;
	uint8_t ist;
	uint8_t attr;
	uint16_t off1;
	uint32_t off2;
	uint32_t zero;
} __attribute__((packed));

struct exc_frame {
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

static struct idt_gate idt[32];
extern const char exc_stubs[];

static void idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};

	for (int i = 0; i < 32; i++) {
		uint64_t a = (uint64_t)(uintptr_t)(exc_stubs + 16 * i);

		idt[i] = (struct idt_gate){.off0 = (uint16_t)a,
					   .sel = KERNEL_CS,
					   .attr = 0x8e, /* present, ring 0, interrupt gate */
					   .off1 = (uint16_t)(a >> 16),
					   .off2 = (uint32_t)(a >> 32)};
	}
	__asm__ volatile("lidt %0" : : "m"(ptr));
}

void exception_handler(struct exc_frame *f);

__attribute__((noreturn)) void exception_handler(struct exc_frame *f)
{
	uint64_t cr2;

	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	fail("exception %lu (error code 0x%lx) at rip 0x%lx, cr2 0x%lx", f->vector, f->error,
	     f->rip, cr2);
	finish();
}

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

void kmain(void);

__attribute__((noreturn)) void kmain(void)
{
	struct boot_ctx c = {0};

	idt_init();
	console_init();
	crc32_init();
	console_puts("osio bzImage test guest: Linux boot protocol 2.15\n");
	if (crc32_update(0, "123456789", 9) == 0xcbf43926)
		pass("crc32: check value of \"123456789\" is 0xcbf43926");
	else
		fail("crc32: self-test gives 0x%08x, not 0xcbf43926",
		     crc32_update(0, "123456789", 9));

	c.kernel_start = KERNEL_LOAD_ADDR;
	c.kernel_size = rd32(image_info + II_MEM_SIZE);
	c.bp_addr = entry_state.rsi;
	if (!mapped(c.bp_addr, BP_SIZE)) {
		fail("entry: boot_params pointer 0x%lx is outside the first 4 GiB", c.bp_addr);
		finish();
	}
	c.bp = (struct boot_params *)(uintptr_t)c.bp_addr;

	check_entry(&c);
	check_image(&c);
	check_header(&c);
	check_cmdline(&c);
	check_e820(&c);
	check_placement(&c);
	check_initrd(&c);
	check_setup_data(&c);
	check_video(&c);
	check_acpi(&c);
	finish();
}
