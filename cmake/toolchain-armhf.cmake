# toolchain-armhf.cmake - cross build for a 32-bit Raspberry Pi (ARMv7, 32-bit Raspberry Pi OS):
# cmake -B build-armhf -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-armhf.cmake (see scripts/test-cross).
set(AUSCULT_CROSS_TRIPLET arm-linux-gnueabihf)
set(AUSCULT_CROSS_PROCESSOR arm)
set(AUSCULT_CROSS_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-debian-cross.cmake)
