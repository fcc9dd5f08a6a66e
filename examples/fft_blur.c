/* Example: blurring an image by FFT convolution with a Gaussian kernel.
 *
 * pel_fft_convolve() pads both arrays to FFT-friendly sizes, multiplies
 * their spectra and returns the part scipy.signal.fftconvolve's mode= asks
 * for: PEL_FFT_CONVOLVE_SAME keeps the image's size. A direct convolution
 * costs rows*cols*k*k multiply-adds; the FFT route costs O(N log N)
 * whatever the kernel's size, which wins from kernels of about 8x8 up.
 * The program draws a test image (rings and a checkerboard), blurs it, writes
 * both as PGM images, and checks a few pixels against the direct sum.
 *
 * Usage: fft_blur [size [sigma]]   (defaults 256, 3.0; writes fft_blur_in.pgm
 *        and fft_blur_out.pgm)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <pel.h>

#include "pgm.h"

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    double sigma = argc > 2 ? strtod(argv[2], NULL) : 3.0;
    size_t radius, k, image_dims[2], kernel_dims[2];
    double *image, *kernel, *blurred, total = 0.0, worst = 0.0, t0;
    pel_status status;

    if (n < 8 || !(sigma > 0.0) || sigma > (double)n / 8) {
        fprintf(stderr, "usage: fft_blur [size >= 8 [0 < sigma <= size/8]]\n");
        return 2;
    }
    radius = (size_t)ceil(3.0 * sigma); /* the Gaussian beyond 3 sigma is negligible */
    k = 2 * radius + 1;
    image_dims[0] = image_dims[1] = n;
    kernel_dims[0] = kernel_dims[1] = k;
    image = pel_malloc(n * n * sizeof *image);
    blurred = pel_malloc(n * n * sizeof *blurred);
    kernel = pel_malloc(k * k * sizeof *kernel);
    if (!image || !blurred || !kernel) {
        fprintf(stderr, "fft_blur: %s\n", pel_last_error());
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double x = (double)i - (double)n / 2, y = (double)j - (double)n / 2;
            int ring = (int)(sqrt(x * x + y * y) / ((double)n / 16)) % 2;
            int square = (int)(i / (n / 8) + j / (n / 8)) % 2;
            image[i * n + j] = j < n / 2 ? ring : square;
        }
    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++) {
            double x = (double)i - (double)radius, y = (double)j - (double)radius;
            kernel[i * k + j] = exp(-(x * x + y * y) / (2.0 * sigma * sigma));
            total += kernel[i * k + j];
        }
    for (size_t i = 0; i < k * k; i++)
        kernel[i] /= total; /* weights sum to 1: flat regions keep their value */

    t0 = pel_wtime();
    status = pel_fft_convolve(2, image_dims, image, kernel_dims, kernel, PEL_FFT_CONVOLVE_SAME, blurred);
    if (status != PEL_OK) {
        fprintf(stderr, "fft_blur: %s\n", pel_last_error());
        return 1;
    }
    printf("fft_blur: %zux%zu image, %zux%zu Gaussian (sigma %.1f) in %.4f s on %d threads\n", n, n, k, k, sigma,
           pel_wtime() - t0, pel_get_num_threads());

    /* Direct check of a few pixels: "same" output (i, j) is the full
     * convolution at (i + radius, j + radius). */
    for (size_t p = 0; p < 16; p++) {
        size_t i = (p * 7919) % n, j = (p * 104729) % n;
        double direct = 0.0;
        for (size_t a = 0; a < k; a++)
            for (size_t b = 0; b < k; b++) {
                long si = (long)i + (long)radius - (long)a, sj = (long)j + (long)radius - (long)b;
                if (si >= 0 && si < (long)n && sj >= 0 && sj < (long)n)
                    direct += image[si * (long)n + sj] * kernel[a * k + b];
            }
        worst = fmax(worst, fabs(direct - blurred[i * n + j]));
    }
    printf("largest difference from the direct sum at 16 pixels: %.2e\n", worst);
    if (write_pgm("fft_blur_in.pgm", image, n, n, 0.0, 1.0) != 0 ||
        write_pgm("fft_blur_out.pgm", blurred, n, n, 0.0, 1.0) != 0)
        return 1;
    printf("wrote fft_blur_in.pgm and fft_blur_out.pgm\n");
    pel_free(image);
    pel_free(blurred);
    pel_free(kernel);
    /* FFT rounding: about eps * log2(N) * sum|image| * max|kernel|, far below 1e-10 here. */
    return worst <= 1e-10 ? 0 : 1;
}
