//! Notifications (migration 0016, node-owned): people's e-mail addresses and their verification
//! tokens (`email`), what each person is told and how much they want to hear (`notifications`),
//! and the mail outbox a sender drains with leases (`outbox`).

mod email;
mod notifications;
mod outbox;

pub use email::{EmailAddressRow, TokenUse};
pub use notifications::{NewNotification, NotificationPage, NotificationRow, NotifyLevel, PrefRow};
pub use outbox::{MailRow, MailStatus, NewMail};
