/* A/B of the banded prefetch (docs/sparse.md): the 7-point Laplacian on an
 * N^3 grid built twice, once with no banded parts (pel__csr_banded_columns
 * = 0) and once with the model's window, timed interleaved on 1 and 2
 * threads, medians. Scratch driver, not built by make:
 *   B=_build; gcc -O2 -fopenmp -Iinclude -I$B/include docs/results/2026-12-02-spmv/banded_ab.c -o banded_ab \
 *     $B/.libs/libpel.a -lfftw3_omp -lfftw3f_omp -lfftw3 -lfftw3f \
 *     -L/usr/lib/x86_64-linux-gnu/openblas-openmp -Wl,-rpath,/usr/lib/x86_64-linux-gnu/openblas-openmp -lopenblas -lm
 *   OMP_WAIT_POLICY=passive ./banded_ab 200 15 */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <stdint.h>
#include "pel.h"
extern size_t pel__csr_banded_columns;
int cmpd(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){
  size_t side=atol(argv[1]); int reps=atoi(argv[2]); size_t rows=side*side*side;
  size_t *rp=malloc((rows+1)*8), *ci=malloc(rows*7*8), nnz=0; double *v=malloc(rows*7*8);
  rp[0]=0; for(size_t i=0;i<rows;i++){ size_t z=i/(side*side),y=(i/side)%side,x=i%side;
     if(z>0)ci[nnz]=i-side*side,v[nnz++]=-1; if(y>0)ci[nnz]=i-side,v[nnz++]=-1; if(x>0)ci[nnz]=i-1,v[nnz++]=-1; ci[nnz]=i,v[nnz++]=6;
     if(x+1<side)ci[nnz]=i+1,v[nnz++]=-1; if(y+1<side)ci[nnz]=i+side,v[nnz++]=-1; if(z+1<side)ci[nnz]=i+side*side,v[nnz++]=-1; rp[i+1]=nnz;}
  pel_csr *A[2]; size_t save=pel__csr_banded_columns;
  pel__csr_banded_columns=0; pel_csr_create(PEL_FLOAT64,rows,rows,rp,ci,v,&A[0]);
  pel__csr_banded_columns=save; pel_csr_create(PEL_FLOAT64,rows,rows,rp,ci,v,&A[1]);
  double *x=pel_malloc(rows*8),*y=pel_malloc(rows*8); for(size_t i=0;i<rows;i++)x[i]=1.0/(i+1);
  const char*nm[2]={"wide, no prefetch","banded (prefetch)"}; double t[2][101];
  for(int th=1;th<=2;th++){ pel_set_num_threads(th);
  for(int m=0;m<2;m++) pel_csr_spmv(A[m],1,x,0,y);
  for(int r=0;r<reps;r++) for(int q=0;q<2;q++){int m=(q+r)%2; double t0=pel_wtime(); pel_csr_spmv(A[m],1,x,0,y); t[m][r]=pel_wtime()-t0;}
  for(int m=0;m<2;m++){qsort(t[m],reps,8,cmpd); printf("threads %d %s: %.2f ms\n",th,nm[m],t[m][reps/2]*1e3);}
  printf("  speedup %.3f\n", t[0][reps/2]/t[1][reps/2]);}
}
