//! Page numbers from the query string, and the links between pages of a list.

/// A 1-based page number. Anything that is not a positive whole number (`abc`, `-1`, `0`, empty)
/// means the first page; numbers too large to hold are kept as the largest one, which is past
/// the end of any list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumber(u32);

impl PageNumber {
    pub const FIRST: Self = Self(1);

    pub fn parse(raw: Option<&str>) -> Self {
        let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
            return Self::FIRST;
        };
        if !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Self::FIRST;
        }
        match raw.parse::<u32>() {
            Ok(0) => Self::FIRST,
            Ok(n) => Self(n),
            Err(_) => Self(u32::MAX),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// Rows to skip for this page.
    pub fn offset(self, per_page: u32) -> i64 {
        i64::from(self.0 - 1) * i64::from(per_page)
    }
}

/// Where a list stands and the links to its neighbours, for the pagination partial.
#[derive(Debug, Clone)]
pub struct Pagination {
    pub current: u32,
    pub total_pages: u32,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
}

impl Pagination {
    /// `base` is the list's URL without a page parameter; it may already carry a query string.
    /// Returns `None` when the page is past the end (page 1 always exists, even when empty).
    pub fn new(base: &str, page: PageNumber, per_page: u32, total_items: i64) -> Option<Self> {
        let per_page_items = i64::from(per_page.max(1));
        let total_pages = u32::try_from((total_items.max(0) + per_page_items - 1) / per_page_items)
            .unwrap_or(u32::MAX)
            .max(1);
        let current = page.get();
        if current > total_pages {
            return None;
        }
        Some(Self {
            current,
            total_pages,
            prev_url: (current > 1).then(|| page_url(base, current - 1)),
            next_url: (current < total_pages).then(|| page_url(base, current + 1)),
        })
    }

    pub fn is_needed(&self) -> bool {
        self.total_pages > 1
    }
}

/// The URL of page `n` of the list at `base`; page 1 is `base` itself, so it has one address.
pub fn page_url(base: &str, n: u32) -> String {
    if n <= 1 {
        base.to_owned()
    } else if base.contains('?') {
        format!("{base}&page={n}")
    } else {
        format!("{base}?page={n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anything_but_a_positive_number_is_the_first_page() {
        for raw in [
            None,
            Some(""),
            Some("abc"),
            Some("-1"),
            Some("0"),
            Some("1.5"),
            Some("+2"),
        ] {
            assert_eq!(PageNumber::parse(raw), PageNumber::FIRST, "{raw:?}");
        }
        assert_eq!(PageNumber::parse(Some("3")).get(), 3);
        assert_eq!(
            PageNumber::parse(Some("99999999999999999999")).get(),
            u32::MAX
        );
    }

    #[test]
    fn a_page_past_the_end_does_not_exist_but_an_empty_first_page_does() {
        assert!(Pagination::new("/a", PageNumber::parse(Some("3")), 10, 20).is_none());
        let empty = Pagination::new("/a", PageNumber::FIRST, 10, 0).unwrap();
        assert_eq!(empty.total_pages, 1);
        assert!(!empty.is_needed());
    }

    #[test]
    fn neighbour_links_keep_the_query_and_page_one_has_no_parameter() {
        let p = Pagination::new("/search?q=sql", PageNumber::parse(Some("2")), 10, 30).unwrap();
        assert_eq!(p.prev_url.as_deref(), Some("/search?q=sql"));
        assert_eq!(p.next_url.as_deref(), Some("/search?q=sql&page=3"));
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #[test]
            fn any_page_parameter_is_a_page_from_one(raw in proptest::option::of("\\PC{0,30}")) {
                let page = PageNumber::parse(raw.as_deref());
                prop_assert!(page.get() >= 1);
                prop_assert!(page.offset(10) >= 0);
            }

            #[test]
            fn a_positive_number_is_its_own_page(n in 1u32..) {
                prop_assert_eq!(PageNumber::parse(Some(&n.to_string())).get(), n);
            }
        }
    }
}
