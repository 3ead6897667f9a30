#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static void spin(double us){struct timespec a,b;clock_gettime(CLOCK_MONOTONIC,&a);do{clock_gettime(CLOCK_MONOTONIC,&b);}while((b.tv_sec-a.tv_sec)*1e6+(b.tv_nsec-a.tv_nsec)*1e-3<us);}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
static char *readf(const char*p){FILE*f=fopen(p,"rb");fseek(f,0,2);long n=ftell(f);rewind(f);char*s=malloc(n+1);fread(s,1,n,f);s[n]=0;fclose(f);return s;}
int main(int argc,char**argv){
  cl_platform_id p; cl_device_id d; cl_int st;
  clGetPlatformIDs(1,&p,NULL); clGetDeviceIDs(p,CL_DEVICE_TYPE_ALL,1,&d,NULL);
  cl_context c=clCreateContext(NULL,1,&d,NULL,NULL,&st);
  cl_command_queue q=clCreateCommandQueue(c,d,CL_QUEUE_PROFILING_ENABLE,&st);
  const char*src=readf("/tmp/gx/g.cl"); cl_program prog=clCreateProgramWithSource(c,1,&src,NULL,&st);
  st=clBuildProgram(prog,1,&d,"",NULL,NULL); if(st){printf("build %d\n",st);return 1;}
  const unsigned N=4096,D=128; unsigned cols4=D/4;
  float*hx=malloc((size_t)N*D*4); for(size_t i=0;i<(size_t)N*D;i++)hx[i]=(float)i;
  unsigned*ord=malloc(N*4); for(unsigned i=0;i<N;i++)ord[i]=i; srand(1); for(unsigned i=N-1;i>0;i--){unsigned k=rand()%(i+1),t=ord[i];ord[i]=ord[k];ord[k]=t;}
  cl_mem x=clCreateBuffer(c,CL_MEM_COPY_HOST_PTR,(size_t)N*D*4,hx,&st), o=clCreateBuffer(c,CL_MEM_COPY_HOST_PTR,N*4,ord,&st), xb=clCreateBuffer(c,0,(size_t)N*D*4,NULL,&st);
  const char*names[]={"g2d","grow","g1d","grow16"};
  unsigned Bs[]={256,4096};
  for(int bi=0;bi<2;bi++){unsigned B=Bs[bi];
   for(int k=0;k<4;k++){
    cl_kernel kn=clCreateKernel(prog,names[k],&st); unsigned first=0, c4=k==3?D/16:cols4;
    clSetKernelArg(kn,0,sizeof x,&x);clSetKernelArg(kn,1,sizeof o,&o);clSetKernelArg(kn,2,4,&first);clSetKernelArg(kn,3,4,&B);clSetKernelArg(kn,4,4,&c4);clSetKernelArg(kn,5,sizeof xb,&xb);
    size_t g[2],l[2]; cl_uint dims;
    if(k==0){dims=2;l[0]=32;l[1]=8;g[0]=32;g[1]=B;}
    else if(k==1||k==3){dims=1;l[0]=B<64?B:64;g[0]=B;}
    else {dims=1;l[0]=cols4;g[0]=(size_t)B*cols4;}
    double t[200];
    for(int r=0;r<220;r++){spin(GAP); cl_event e; unsigned fr=(unsigned)((r*(size_t)B)%N); if(fr+B>N)fr=0; clSetKernelArg(kn,2,4,&fr); st=clEnqueueNDRangeKernel(q,kn,dims,NULL,g,l,0,NULL,&e); if(st){printf("enq %d\n",st);return 1;} clWaitForEvents(1,&e);
      cl_ulong a,b; clGetEventProfilingInfo(e,CL_PROFILING_COMMAND_START,8,&a,NULL);clGetEventProfilingInfo(e,CL_PROFILING_COMMAND_END,8,&b,NULL); if(r>=20)t[r-20]=(b-a)*1e-3; clReleaseEvent(e);}
    qsort(t,200,sizeof(double),cmp);
    clSetKernelArg(kn,2,4,&first); clEnqueueNDRangeKernel(q,kn,dims,NULL,g,l,0,NULL,NULL); clFinish(q);
    float*hb=malloc((size_t)B*D*4); clEnqueueReadBuffer(q,xb,1,0,(size_t)B*D*4,hb,0,NULL,NULL); int ok=1; for(unsigned r=0;r<B;r++)for(unsigned j=0;j<D;j++) if(hb[r*D+j]!=hx[(size_t)ord[r]*D+j]) ok=0;
    printf("B=%u %-7s median %7.1f us  p10 %7.1f  p90 %7.1f  %s\n",B,names[k],t[100],t[20],t[180],ok?"ok":"WRONG");
    clEnqueueFillBuffer(q,xb,&(float){0},4,0,(size_t)N*D*4,0,NULL,NULL); clFinish(q);
    free(hb); clReleaseKernel(kn);}}
  return 0;}
