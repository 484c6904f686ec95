//! The Terraform functions that decide counts and literal settings, over values with unknowns.
//! Any other function, or any argument of the wrong kind, gives an unknown.

use std::collections::BTreeMap;

use super::eval::Val;

/// More elements than any real `range()` in a count; a bound keeps a typo from eating memory.
const MAX_RANGE: f64 = 100_000.0;

/// Calls the function `name` on evaluated arguments.
pub(crate) fn call(name: &str, args: &[Val]) -> Val {
    match (name, args) {
        ("length", [Val::List(v)]) => Val::Num(v.len() as f64),
        ("length", [Val::Obj(m)]) => Val::Num(m.len() as f64),
        ("length", [Val::Str(s)]) => Val::Num(s.chars().count() as f64),
        ("toset" | "distinct", [Val::List(v)]) => distinct(v, name == "toset"),
        ("tolist", [v @ Val::List(_)]) | ("tomap", [v @ Val::Obj(_)]) => v.clone(),
        ("keys", [Val::Obj(m)]) => Val::List(m.keys().cloned().map(Val::Str).collect()),
        ("values", [Val::Obj(m)]) => Val::List(m.values().cloned().collect()),
        ("concat", lists) => concat(lists),
        ("merge", objects) => merge(objects),
        ("min" | "max", nums) if !nums.is_empty() => {
            let mut out: Option<f64> = None;
            for n in nums {
                let Val::Num(n) = n else { return Val::Unknown };
                out = Some(match out {
                    None => *n,
                    Some(o) if name == "min" => o.min(*n),
                    Some(o) => o.max(*n),
                });
            }
            out.map_or(Val::Unknown, Val::Num)
        }
        ("sum", [Val::List(v)]) => v
            .iter()
            .try_fold(0.0, |acc, n| match n {
                Val::Num(n) => Some(acc + n),
                _ => None,
            })
            .map_or(Val::Unknown, Val::Num),
        ("abs", [Val::Num(n)]) => Val::Num(n.abs()),
        ("ceil", [Val::Num(n)]) => Val::Num(n.ceil()),
        ("floor", [Val::Num(n)]) => Val::Num(n.floor()),
        ("range", nums) => range(nums),
        ("slice", [Val::List(v), Val::Num(a), Val::Num(b)])
            if *a >= 0.0 && a <= b && (*b as usize) <= v.len() =>
        {
            Val::List(v[*a as usize..*b as usize].to_vec())
        }
        ("compact", [Val::List(v)]) => {
            let mut out = Vec::new();
            for item in v {
                match item {
                    Val::Null => {}
                    Val::Str(s) if s.is_empty() => {}
                    Val::Str(_) => out.push(item.clone()),
                    _ => return Val::Unknown,
                }
            }
            Val::List(out)
        }
        ("flatten", [Val::List(v)]) => flatten(v).map_or(Val::Unknown, Val::List),
        ("coalesce", items) => {
            for item in items {
                match item {
                    Val::Null => {}
                    Val::Str(s) if s.is_empty() => {}
                    Val::Unknown => return Val::Unknown,
                    known => return known.clone(),
                }
            }
            Val::Unknown
        }
        ("lookup", [Val::Obj(m), key, rest @ ..]) if rest.len() <= 1 => {
            match key.as_text().map(|k| m.get(&k)) {
                Some(Some(v)) => v.clone(),
                Some(None) => rest.first().cloned().unwrap_or(Val::Unknown),
                None => Val::Unknown,
            }
        }
        ("contains", [Val::List(v), item]) if v.iter().all(Val::is_known) && item.is_known() => {
            Val::Bool(v.contains(item))
        }
        ("element", [Val::List(v), Val::Num(i)]) if !v.is_empty() && *i >= 0.0 => {
            v[*i as usize % v.len()].clone()
        }
        ("zipmap", [Val::List(k), Val::List(v)]) if k.len() == v.len() => k
            .iter()
            .zip(v)
            .map(|(k, v)| k.as_text().map(|k| (k, v.clone())))
            .collect::<Option<BTreeMap<_, _>>>()
            .map_or(Val::Unknown, Val::Obj),
        ("lower", [Val::Str(s)]) => Val::Str(s.to_lowercase()),
        ("upper", [Val::Str(s)]) => Val::Str(s.to_uppercase()),
        ("tostring", [v]) => v.as_text().map_or(Val::Unknown, Val::Str),
        ("tonumber", [Val::Num(n)]) => Val::Num(*n),
        ("tonumber", [Val::Str(s)]) => s.parse().map_or(Val::Unknown, Val::Num),
        ("tobool", [Val::Bool(b)]) => Val::Bool(*b),
        ("tobool", [Val::Str(s)]) => s.parse().map_or(Val::Unknown, Val::Bool),
        _ => Val::Unknown,
    }
}

/// `toset` and `distinct`: the size of a set of unknowns is unknown unless it has at most one.
fn distinct(items: &[Val], sorted: bool) -> Val {
    if items.len() <= 1 {
        return Val::List(items.to_vec());
    }
    let mut out: Vec<Val> = Vec::new();
    for item in items {
        if !item.is_known() {
            return Val::Unknown;
        }
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    if sorted {
        out.sort_by_key(Val::as_text);
    }
    Val::List(out)
}

fn concat(lists: &[Val]) -> Val {
    let mut out = Vec::new();
    for list in lists {
        let Val::List(items) = list else {
            return Val::Unknown;
        };
        out.extend(items.iter().cloned());
    }
    Val::List(out)
}

fn merge(objects: &[Val]) -> Val {
    let mut out = BTreeMap::new();
    for object in objects {
        match object {
            Val::Null => {}
            Val::Obj(members) => out.extend(members.iter().map(|(k, v)| (k.clone(), v.clone()))),
            _ => return Val::Unknown,
        }
    }
    Val::Obj(out)
}

fn range(args: &[Val]) -> Val {
    let nums: Option<Vec<f64>> = args
        .iter()
        .map(|a| match a {
            Val::Num(n) => Some(*n),
            _ => None,
        })
        .collect();
    let (start, end, step) = match nums.as_deref() {
        Some([end]) => (0.0, *end, 1.0),
        Some([start, end]) => (*start, *end, if start <= end { 1.0 } else { -1.0 }),
        Some([start, end, step]) if *step != 0.0 => (*start, *end, *step),
        _ => return Val::Unknown,
    };
    if ((end - start) / step).abs() > MAX_RANGE {
        return Val::Unknown;
    }
    let mut out = Vec::new();
    let mut n = start;
    while (step > 0.0 && n < end) || (step < 0.0 && n > end) {
        out.push(Val::Num(n));
        n += step;
    }
    Val::List(out)
}

fn flatten(items: &[Val]) -> Option<Vec<Val>> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Val::List(inner) => out.extend(flatten(inner)?),
            Val::Unknown => return None,
            other => out.push(other.clone()),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(n: f64) -> Val {
        Val::Num(n)
    }

    #[test]
    fn counting_functions() {
        assert_eq!(
            call("range", &[num(3.0)]),
            Val::List(vec![num(0.0), num(1.0), num(2.0)])
        );
        assert_eq!(
            call("range", &[num(1.0), num(7.0), num(3.0)]),
            Val::List(vec![num(1.0), num(4.0)])
        );
        assert_eq!(call("range", &[num(1e9)]), Val::Unknown);
        assert_eq!(
            call(
                "flatten",
                &[Val::List(vec![Val::List(vec![num(1.0)]), num(2.0)])]
            ),
            Val::List(vec![num(1.0), num(2.0)])
        );
        assert_eq!(
            call(
                "compact",
                &[Val::List(vec![
                    Val::Str("a".into()),
                    Val::Null,
                    Val::Str(String::new())
                ])]
            ),
            Val::List(vec![Val::Str("a".into())])
        );
        assert_eq!(
            call("compact", &[Val::List(vec![Val::Unknown])]),
            Val::Unknown
        );
        assert_eq!(call("coalesce", &[Val::Null, num(2.0)]), num(2.0));
        assert_eq!(call("max", &[num(1.0), num(4.0)]), num(4.0));
        assert_eq!(call("nosuchfunction", &[num(1.0)]), Val::Unknown);
    }
}
