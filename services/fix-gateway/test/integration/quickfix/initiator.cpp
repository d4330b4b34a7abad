// A small QuickFIX (C++) initiator driven line by line for the interop test:
//   stdin   SEND 35=D|11=x|55=INFY|...   sends a message (header fields are QuickFIX's)
//           QUIT                          logs out and exits
//   stdout  LOGON / LOGOUT / IN <msg> / OUT <msg> / ERROR <text>, SOH shown as '|'
// Sequence numbers live in QuickFIX's FileStore, so a reconnect resumes them.
#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Message.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketInitiator.h>

#include <iostream>
#include <mutex>
#include <sstream>
#include <string>

static std::mutex out;

static void emit(const std::string& kind, const std::string& text) {
  std::string shown = text;
  for (auto& c : shown)
    if (c == '\x01') c = '|';
  std::lock_guard<std::mutex> lock(out);
  std::cout << kind << (shown.empty() ? "" : " ") << shown << std::endl;
}

class Client : public FIX::Application {
 public:
  FIX::SessionID session;
  void onCreate(const FIX::SessionID& id) override { session = id; }
  void onLogon(const FIX::SessionID&) override { emit("LOGON", ""); }
  void onLogout(const FIX::SessionID&) override { emit("LOGOUT", ""); }
  void toAdmin(FIX::Message& m, const FIX::SessionID&) override { emit("OUT", m.toString()); }
  void toApp(FIX::Message& m, const FIX::SessionID&) throw(FIX::DoNotSend) override { emit("OUT", m.toString()); }
  void fromAdmin(const FIX::Message& m, const FIX::SessionID&)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::RejectLogon) override {
    emit("IN", m.toString());
  }
  void fromApp(const FIX::Message& m, const FIX::SessionID&)
      throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue, FIX::UnsupportedMessageType) override {
    emit("IN", m.toString());
  }
};

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: initiator <quickfix settings file>" << std::endl;
    return 2;
  }
  try {
    FIX::SessionSettings settings(argv[1]);
    Client app;
    FIX::FileStoreFactory store(settings);
    FIX::FileLogFactory log(settings);
    FIX::SocketInitiator initiator(app, store, settings, log);
    initiator.start();
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line == "QUIT") break;
      if (line.rfind("SEND ", 0) != 0) {
        emit("ERROR", "unknown command: " + line);
        continue;
      }
      FIX::Message m;
      m.getHeader().setField(FIX::BeginString("FIX.4.4"));
      std::stringstream fields(line.substr(5));
      std::string field;
      while (std::getline(fields, field, '|')) {
        auto eq = field.find('=');
        if (eq == std::string::npos) continue;
        int tag = std::stoi(field.substr(0, eq));
        std::string value = field.substr(eq + 1);
        if (tag == 35)
          m.getHeader().setField(tag, value);
        else
          m.setField(tag, value);
      }
      if (!FIX::Session::sendToTarget(m, app.session)) emit("ERROR", "not sent (not logged on)");
    }
    initiator.stop();
  } catch (std::exception& e) {
    emit("ERROR", e.what());
    return 1;
  }
  return 0;
}
