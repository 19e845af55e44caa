# shellcheck shell=bash disable=SC2154 # medium, image: the caller's
# Shared by boot-qemu.sh and boot-osio.sh: where the image is (or SKIP without it), and the text
# of a terminal log. The caller sets medium (dvd, ide, virtio) and image (its --image), then
# sources this.

# image_find: iso and img from $OSIO_ROOT_IMAGE (a folder or one of the two files) or image;
# SKIP (exit 77) when the one the medium boots has not been built.
image_find() {
	if [ -n "${OSIO_ROOT_IMAGE-}" ]; then
		image=$OSIO_ROOT_IMAGE
		[ -f "$image" ] && image=$(dirname "$image")
	fi
	iso=$image/osio-root.iso img=$image/osio-root.img
	local want=$iso
	[ "$medium" = dvd ] || want=$img
	if [ ! -s "$want" ]; then
		echo "SKIP: no osio image at $want: run scripts/make-root-image.sh first (as root; it" \
			"downloads about 150 MB from Debian) or set OSIO_ROOT_IMAGE"
		exit 77
	fi
}

# strip FILE: the text of a terminal log without escape sequences, carriage returns and white
# space (curses moves the cursor over blanks instead of writing them).
strip() {
	sed -e 's|\x1b\[[0-9;?]*[ -/]*[@-~]||g' -e 's/\x1b[()][0-9A-Za-z]//g' \
		-e 's/\x1b[=>78c]//g' -e 's/\x0f//g; s/\x0e//g' "$1" | tr -d ' \t\r\n'
}
