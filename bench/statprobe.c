// Cost of sampling N idle children's /proc/<pid>/{stat,schedstat,statm} several ways,
// CPU time per sample via getrusage (see analysis.md, "1,000 idle instances").
// cc -O2 -o statprobe bench/statprobe.c && ./statprobe 1000 20   (forks N children, kills them by pid)
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/resource.h>
static double cpu(void){struct rusage r;getrusage(RUSAGE_SELF,&r);
 return r.ru_utime.tv_sec+r.ru_utime.tv_usec/1e6+r.ru_stime.tv_sec+r.ru_stime.tv_usec/1e6;}
int main(int argc,char**argv){int n=atoi(argv[1]),rounds=atoi(argv[2]);pid_t*p=malloc(n*sizeof*p);int*fd=malloc(n*sizeof*fd);
 for(int i=0;i<n;i++){p[i]=fork();if(!p[i]){pause();_exit(0);}}
 char path[64],buf[1024];double t;
 // (a) procfs crate pattern: O_PATH dir, openat stat, fstat dir, read x2, close x2
 t=cpu();for(int r=0;r<rounds;r++)for(int i=0;i<n;i++){snprintf(path,64,"/proc/%d",p[i]);
  int d=open(path,O_RDONLY|O_PATH|O_DIRECTORY|O_CLOEXEC);struct stat st;fstat(d,&st);
  int f=openat(d,"stat",O_RDONLY|O_CLOEXEC);lseek(f,0,SEEK_CUR);read(f,buf,sizeof buf);read(f,buf,sizeof buf);close(f);close(d);}
 printf("procfs-like (8 syscalls): %.2f us/sample\n",(cpu()-t)/rounds/n*1e6);
 // (b) open+read+close
 t=cpu();for(int r=0;r<rounds;r++)for(int i=0;i<n;i++){snprintf(path,64,"/proc/%d/stat",p[i]);
  int f=open(path,O_RDONLY|O_CLOEXEC);read(f,buf,sizeof buf);close(f);}
 printf("open+read+close: %.2f us/sample\n",(cpu()-t)/rounds/n*1e6);
 // (c) persistent fd, pread at 0
 for(int i=0;i<n;i++){snprintf(path,64,"/proc/%d/stat",p[i]);fd[i]=open(path,O_RDONLY|O_CLOEXEC);}
 t=cpu();for(int r=0;r<rounds;r++)for(int i=0;i<n;i++){if(pread(fd[i],buf,sizeof buf,0)<=0)return 1;}
 printf("pread on kept fd: %.2f us/sample\n",(cpu()-t)/rounds/n*1e6);
 int*f2=malloc(n*sizeof*f2);
 for(int i=0;i<n;i++){snprintf(path,64,"/proc/%d/schedstat",p[i]);fd[i]=open(path,O_RDONLY|O_CLOEXEC);snprintf(path,64,"/proc/%d/statm",p[i]);f2[i]=open(path,O_RDONLY|O_CLOEXEC);}
 t=cpu();for(int r=0;r<rounds;r++)for(int i=0;i<n;i++){if(pread(fd[i],buf,sizeof buf,0)<=0)return 1;}
 printf("pread kept schedstat: %.2f us/sample\n",(cpu()-t)/rounds/n*1e6);
 t=cpu();for(int r=0;r<rounds;r++)for(int i=0;i<n;i++){if(pread(f2[i],buf,sizeof buf,0)<=0)return 1;}
 printf("pread kept statm: %.2f us/sample\n",(cpu()-t)/rounds/n*1e6);
 for(int i=0;i<n;i++)kill(p[i],SIGKILL);for(int i=0;i<n;i++)waitpid(p[i],0,0);return 0;}
