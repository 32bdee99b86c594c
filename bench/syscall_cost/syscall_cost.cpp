// What one wasted read costs on this box, against what the alternatives cost: a recv that
// finds nothing (Asio's speculative read), an EPOLL_CTL_MOD (what Asio's async_wait does when
// no operation is queued) and a non-blocking epoll_wait. One connected loopback TCP socket
// with nothing to read; each call repeated 10^6 times, three rounds.
//
//   g++ -O2 -std=c++20 bench/syscall_cost/syscall_cost.cpp -o /tmp/syscall_cost && /tmp/syscall_cost
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

constexpr int kCalls = 1'000'000;

void require(bool ok, const char* what) {
    if (!ok) {
        std::perror(what);
        std::exit(1);
    }
}

template <typename Call>
double nanoseconds_per_call(Call call) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) call();
    const std::chrono::duration<double, std::nano> spent = std::chrono::steady_clock::now() - start;
    return spent.count() / kCalls;
}

}  // namespace

int main() {
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    require(listener >= 0, "socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    require(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0, "bind");
    require(listen(listener, 1) == 0, "listen");
    require(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0, "getsockname");
    const int client = socket(AF_INET, SOCK_STREAM, 0);
    require(client >= 0, "socket");
    require(connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0, "connect");
    const int server = accept(listener, nullptr, nullptr);
    require(server >= 0, "accept");
    require(fcntl(server, F_SETFL, O_NONBLOCK) == 0, "fcntl");

    const int poller = epoll_create1(0);
    require(poller >= 0, "epoll_create1");
    epoll_event interest{};
    interest.events = EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLPRI | EPOLLET;  // as Asio registers sockets
    interest.data.fd = server;
    require(epoll_ctl(poller, EPOLL_CTL_ADD, server, &interest) == 0, "epoll_ctl");

    std::array<char, 65536> buffer{};
    std::array<epoll_event, 8> ready{};
    for (int round = 0; round < 3; ++round) {
        const double eagain = nanoseconds_per_call([&] { (void)recv(server, buffer.data(), buffer.size(), 0); });
        const double modify = nanoseconds_per_call([&] { (void)epoll_ctl(poller, EPOLL_CTL_MOD, server, &interest); });
        const double poll = nanoseconds_per_call([&] { (void)epoll_wait(poller, ready.data(), ready.size(), 0); });
        std::printf("recv (EAGAIN) %.0f ns   epoll_ctl(MOD) %.0f ns   epoll_wait(timeout 0) %.0f ns\n", eagain, modify,
                    poll);
    }
    close(poller);
    close(server);
    close(client);
    close(listener);
}
